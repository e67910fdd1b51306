// Playbooks that several test files run through the CLI, written once. Each is YAML text to put
// in a working directory (workdir({ 'pb.yaml': ... })); the options are what the tests vary.

/** Waits for a consumer group to read a topic to its end: `-p topic=... -p group=...`. */
export function drainPlaybook(o: { samples: number; interval: string; timeout: string }): string {
  return `name: drain
params:
  topic: { required: true }
  group: { required: true }
steps:
  - id: drained
    uses: kafka.drain
    with: { topic: "\${{ params.topic }}", group: "\${{ params.group }}", samples: ${o.samples} }
    interval: ${o.interval}
    timeout: ${o.timeout}
`;
}

/** A topic, a gate (`approve`), then a flag switched on: without a terminal it pauses (exit 3). */
export function gatedPlaybook(o: { partitions: number; message: string }): string {
  return `name: gated
params:
  topic: { required: true }
steps:
  - id: create
    title: Create \${{ params.topic }}
    uses: kafka.topic
    with: { name: "\${{ params.topic }}", partitions: ${o.partitions} }
  - id: approve
    uses: confirm
    with: { message: ${JSON.stringify(o.message)} }
  - id: switch
    uses: flag.set
    with: { key: "\${{ params.topic }}-async", on: true }
`;
}

/** Creates a topic on a broker that is not there: retried once, then the run fails (exit 1). */
export const unreachablePlaybook = `name: unreachable
steps:
  - id: create
    uses: kafka.topic
    with: { name: never-created, partitions: 1 }
    retries: 1
    timeout: 20s
`;

/**
 * `<topic>-a` (3 partitions), a gate `approve-b` with a title and a description, then `<topic>-b`
 * (2 partitions). Tests change it with replace() on `partitions: 3`, `partitions: 2`, `name: two-topics`.
 */
export const twoTopicsPlaybook = `name: two-topics
description: Two topics with a gate between them
params:
  topic: { required: true }
steps:
  - id: create-a
    title: Create \${{ params.topic }}-a
    uses: kafka.topic
    with: { name: "\${{ params.topic }}-a", partitions: 3 }
  - id: approve-b
    title: Approve the second topic
    description: Consumers subscribe to the second topic as soon as it exists; check the first one is in use.
    uses: confirm
    with: { message: Create the second topic? }
  - id: create-b
    uses: kafka.topic
    with: { name: "\${{ params.topic }}-b", partitions: 2 }
`;

/** Registers ExerciseCompleted version 0 from `file` for `datarep.<topic>`: `-p topic=...`. */
export function registerPlaybook(file: string): string {
  return `name: register
params:
  topic: { required: true }
steps:
  - id: register-schema
    uses: schema.register
    with: { event: ExerciseCompleted, version: 0, file: ${file}, topic: "datarep.\${{ params.topic }}" }
`;
}
