// Addresses a user writes in the config or the environment, checked before anything connects.

/** host:port, with a port Kafka can listen on. */
export function isBrokerAddress(value: string): boolean {
  const m = /^[^\s:/]+:(\d{1,5})$/.exec(value);
  return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 65535;
}

/** An http:// or https:// URL. */
export function isHttpUrl(value: string): boolean {
  return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
}
