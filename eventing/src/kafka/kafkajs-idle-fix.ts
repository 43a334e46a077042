/**
 * A fix for kafkajs 2.2.4's idle busy loop (tulios/kafkajs#1556, #1604; the
 * fix proposed in #1667 was never released, kafkajs being unmaintained):
 * after any response, each broker connection's request queue re-arms a timer
 * with a negative delay — 1 ms — to look for pending requests, even when none
 * is pending, and does so again from that timer, forever. Every connection of
 * every consumer and producer spins at ~1,000 wake-ups a second; an idle
 * KafkaSource stand-in burned ~45 ms of CPU a second on it.
 *
 * The replacement only arms the timer when a request is waiting (throttled,
 * or behind `maxInFlightRequests`), at the throttle's end or in 10 ms as
 * kafkajs does. Nothing else needs it: a new request is sent at once or
 * queued (which arms the timer), and every response or timeout looks at the
 * queue itself.
 */
import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';

/** kafkajs' own recheck interval while a request waits behind the in-flight limit. */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

let patched = false;

/** Installs the fix on kafkajs' RequestQueue (idempotent). */
export function fixKafkajsIdleLoop(): void {
  if (patched) return;
  patched = true;
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueue) {
    if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
    const throttledFor = this.throttledUntil - Date.now();
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      throttledFor > 0 ? throttledFor : CHECK_PENDING_REQUESTS_INTERVAL,
    );
  };
}
