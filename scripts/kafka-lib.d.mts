// Types for scripts/kafka-lib.mjs (plain JS so it runs before any build).

export type KafkaLog = (message: string) => void;

/** The Kafka version the jars in scripts/kafka/pom.xml resolve to. */
export declare const KAFKA_VERSION: string;

/** A running single-node broker started by startKafka(). */
export interface KafkaHandle {
  /** Bootstrap servers, `127.0.0.1:<port>`. */
  readonly brokers: string;
  readonly port: number;
  readonly controllerPort: number;
  /** The broker JVM's pid (it leads its own process group); changes on restart(). */
  readonly pid: number;
  readonly dataDir: string;
  /** SIGTERM to the broker's process group, up to 20 s, then SIGKILL. Keeps the data. */
  stop(): Promise<void>;
  /** Stops the broker and starts it again on the same ports and data (topics, offsets, keystore). */
  restart(): Promise<void>;
  /** With StartKafkaOptions.security: the TLS and SASL listeners and the CA that signed the broker's certificate. */
  readonly security?: KafkaSecurity;
}

/** The secured listeners of a broker started with `security`; PLAINTEXT stays at `brokers`. */
export interface KafkaSecurity {
  /** `127.0.0.1:<port>` of the SSL listener (TLS, no SASL). */
  readonly ssl: string;
  /** `127.0.0.1:<port>` of the SASL_SSL listener (SCRAM over TLS). */
  readonly saslSsl: string;
  /** `127.0.0.1:<port>` of the SASL_PLAINTEXT listener (SCRAM, no TLS). */
  readonly saslPlaintext: string;
  /** PEM of the throwaway CA made for this start; clients trust it to verify the broker (IP SAN 127.0.0.1). */
  readonly caFile: string;
  /** The SASL mechanisms enabled, each user has credentials for all: SCRAM-SHA-256, SCRAM-SHA-512. */
  readonly mechanisms: readonly string[];
}

/** The contents of `<dataDir>/broker.json`. */
export interface KafkaState {
  pid: number;
  brokers: string;
  port: number;
  controllerPort: number;
  startedAt: string;
  /** False while the broker is still starting. */
  ready: boolean;
  version: string;
  dataDir: string;
  log: string;
  /** Ports of the secured listeners, for a broker started with `security`. */
  securePorts?: { ssl: number; saslSsl: number; saslPlaintext: number };
}

export interface StartKafkaOptions {
  /** Where everything goes: server.properties, the log, the topic data, broker.json. */
  dataDir: string;
  log?: KafkaLog;
  /** Client port; default a free one (or the one an already formatted dataDir used). */
  port?: number;
  controllerPort?: number;
  /** How long to wait for the broker to serve; default 90 000 ms. */
  timeoutMs?: number;
  /**
   * Also serve TLS and SASL/SCRAM: SSL, SASL_SSL and SASL_PLAINTEXT listeners on free ports, a
   * throwaway CA and keystore (openssl) in `<dataDir>/tls`, and SCRAM-SHA-256/512 credentials for
   * each user, added when the data dir is formatted (a formatted dir keeps the users it had).
   */
  security?: { users?: { name: string; password: string }[] };
}

/** `${MIGRATE_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/migrate}` */
export declare function cacheRoot(): string;

/** Resolves the broker's jars once into the cache; returns the libs directory. */
export declare function ensureKafkaJars(options?: { log?: KafkaLog }): Promise<string>;

/** Starts a broker and resolves when it serves clients; rejects (with its log's tail) if not within timeoutMs. */
export declare function startKafka(options: StartKafkaOptions): Promise<KafkaHandle>;

/** `<dataDir>/broker.json`, or null. */
export declare function readKafkaState(dataDir: string): Promise<KafkaState | null>;

/** The state of a live broker of this dataDir that accepts connections, else null. */
export declare function runningKafka(dataDir: string): Promise<KafkaState | null>;

/** Stops the broker recorded in `<dataDir>/broker.json`; true if one was running. */
export declare function stopKafkaFromStateFile(dataDir: string, options?: { timeoutMs?: number }): Promise<boolean>;

/** Distinct free TCP ports on 127.0.0.1. */
export declare function freePorts(count: number): Promise<number[]>;
