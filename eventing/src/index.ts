export * from './catalog';
export * from './cloudevent';
export * from './cloudevent-function';
export * from './delivery-policy';
export * from './event-sink';
export * from './fanout/fanout';
export * from './fanout/fanout.memory';
export * from './memory-bus';
