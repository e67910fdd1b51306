// The kafkajs 2.2.4 modules src/adapters/kafka-internals.ts reaches into: kafkajs types none of them,
// and kafka-internals.ts checks the shape of each before it uses it.
declare module 'kafkajs/src/broker/index.js' {
  const value: unknown;
  export default value;
}
declare module 'kafkajs/src/network/requestQueue/index.js' {
  const value: unknown;
  export default value;
}
declare module 'kafkajs/src/protocol/encoder.js' {
  const value: unknown;
  export default value;
}
declare module 'kafkajs/src/protocol/error.js' {
  const value: unknown;
  export default value;
}
declare module 'kafkajs/src/protocol/requests/apiKeys.js' {
  const value: unknown;
  export default value;
}
declare module 'kafkajs/src/protocol/requests/index.js' {
  const value: unknown;
  export default value;
}
