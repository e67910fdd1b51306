// The demo services' Kafka client: kafkajs logging at WARN and above to stderr, tagged with the
// service's name, and short retries so a service fails fast when the broker is gone.
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

/** A kafkajs client for the demo service `name`. */
export function demoKafka({ name, brokers, retries }) {
  const logCreator = () => ({ namespace, level, log: entry }) => {
    const { message, ...extra } = entry;
    delete extra.timestamp;
    delete extra.logger;
    const label = Object.keys(logLevel).find((k) => logLevel[k] === level) ?? level;
    process.stderr.write(`${new Date().toISOString()} [${name}] kafkajs ${label} ${namespace}: ${message} ${JSON.stringify(extra)}\n`);
  };
  return new Kafka({
    clientId: `demo-${name}-${process.pid}`,
    brokers,
    logLevel: logLevel.WARN,
    logCreator,
    connectionTimeout: 3000,
    retry: { retries, initialRetryTime: 100, maxRetryTime: retries > 3 ? 2000 : 1000 },
  });
}
