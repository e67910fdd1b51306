// Types for scripts/kafka-lib.mjs (plain JS so it runs before any build).

export type KafkaLog = (message: string) => void;

/** The Kafka version the jars in scripts/kafka/pom.xml resolve to by default. */
export declare const KAFKA_VERSION: string;
/** The oldest broker the tests run against (`npm run test:kafka-3.9`). */
export declare const OLDEST_KAFKA_VERSION: string;

/** The Kafka version to run: `version`, else $MIGRATE_KAFKA_VERSION, else KAFKA_VERSION; throws unless x.y.z from 3.9.0 on. */
export declare function kafkaVersion(version?: string): string;

/** A running single-node broker started by startKafka(). */
export interface KafkaHandle {
  /** Bootstrap servers, `127.0.0.1:<port>`. */
  readonly brokers: string;
  readonly port: number;
  readonly controllerPort: number;
  /** The broker JVM's pid (it leads its own process group); changes on restart(). */
  readonly pid: number;
  readonly dataDir: string;
  /** The Kafka version it runs. */
  readonly version: string;
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

/** One node of a cluster started by startKafkaCluster(). */
export interface KafkaClusterNode {
  /** Its node.id, 1..n. */
  readonly id: number;
  /** `127.0.0.1:<port>` of its broker listener. */
  readonly broker: string;
  readonly port: number;
  readonly controllerPort: number;
  /** `<cluster dataDir>/node-<id>`. */
  readonly dataDir: string;
  /** Its JVM's pid (it leads its own process group); null while killed or stopped. */
  readonly pid: number | null;
}

/** A running KRaft cluster on loopback, each node broker and controller. */
export interface KafkaClusterHandle {
  /** Bootstrap servers: every node's broker listener, comma-separated. */
  readonly brokers: string;
  readonly dataDir: string;
  readonly version: string;
  /** The nodes as they are now (pids change on startNode). */
  readonly nodes: readonly KafkaClusterNode[];
  /** Pids of the nodes running now. */
  pids(): number[];
  /** Stops every node at once (SIGTERM, up to 10 s, then SIGKILL). Keeps the data. */
  stop(): Promise<void>;
  /** SIGKILL to one node's process group, as a machine losing power; resolves once it is gone. */
  killNode(id: number): Promise<void>;
  /** Stops one node cleanly (SIGTERM: a controlled shutdown). */
  stopNode(id: number): Promise<void>;
  /** Starts a killed or stopped node again on its ports and data; resolves when it serves clients. */
  startNode(id: number): Promise<void>;
}

export interface StartKafkaClusterOptions {
  /** Holds cluster.json and a node-<id> dir per node. */
  dataDir: string;
  /** How many nodes; default 3. Replication factor min(3, nodes), min.insync.replicas one less (at least 1). */
  nodes?: number;
  log?: KafkaLog;
  /** How long to wait for each node to serve; default 90 000 ms. */
  timeoutMs?: number;
  /** Kafka version; default kafkaVersion(). */
  version?: string;
}

/** The contents of `<dataDir>/cluster.json`, plus the nodes' pids when read by runningKafka(). */
export interface KafkaClusterState {
  brokers: string;
  nodes: { id: number; port: number; controllerPort: number; dataDir: string }[];
  version: string;
  dataDir: string;
  startedAt: string;
  ready: boolean;
  pids?: number[];
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
  /** Kafka version; default kafkaVersion(). */
  version?: string;
  /** server.properties lines to set or replace, e.g. a production-like `group.initial.rebalance.delay.ms` (the test broker's is 0). */
  brokerProperties?: Record<string, string>;
}

/** `${MIGRATE_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/migrate}` */
export declare function cacheRoot(): string;

/** Resolves the broker's jars once into the cache; returns the libs directory. */
export declare function ensureKafkaJars(options?: { log?: KafkaLog; version?: string }): Promise<string>;

/** Starts a broker and resolves when it serves clients; rejects (with its log's tail) if not within timeoutMs. */
export declare function startKafka(options: StartKafkaOptions): Promise<KafkaHandle>;

/** Starts a KRaft cluster of `nodes` (default 3) on loopback; resolves when every node serves clients. */
export declare function startKafkaCluster(options: StartKafkaClusterOptions): Promise<KafkaClusterHandle>;

/** `<dataDir>/broker.json`, or null. */
export declare function readKafkaState(dataDir: string): Promise<KafkaState | null>;

/** The state of a live broker (or cluster, every node live) of this dataDir that accepts connections, else null. */
export declare function runningKafka(dataDir: string): Promise<KafkaState | KafkaClusterState | null>;

/** Stops the broker recorded in `<dataDir>/broker.json`, or the nodes in `<dataDir>/cluster.json`; true if any was running. */
export declare function stopKafkaFromStateFile(dataDir: string, options?: { timeoutMs?: number }): Promise<boolean>;

/** Distinct free TCP ports on 127.0.0.1. */
export declare function freePorts(count: number): Promise<number[]>;
