export * from './errors';
export * from './frames';
export * from './http';
export * from './model';
