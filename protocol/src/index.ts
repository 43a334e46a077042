export * from './model';
export * from './errors';
export * from './frames';
export * from './http';
