export * from './catalog';
export * from './cloudevent';
export * from './event-sink';
export * from './cloudevent-function';
export * from './fanout/fanout';
export * from './fanout/fanout.memory';
