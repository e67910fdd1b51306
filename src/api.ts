// The public, typed API of the `migrate` package: what a team needs to write its own step types
// (local plugins, docs/writing-a-step-type.md). `import { defineStep, z } from 'migrate'`.
// What is exported here is covered by the semver promise in docs/writing-a-step-type.md; nothing
// else in dist/ is, and package.json `exports` keeps deep imports out.

/** The zod release migrate validates `with:` blocks with (the CLI runs a bundled copy of it); schemas made with it describe themselves in `migrate steps`. */
export { z } from 'zod';
export { defineStep } from './steps/contract.js';
export type { Check, Progress, StepContext, StepType } from './steps/contract.js';
export type {
  ClusterDescription,
  GroupDescription,
  GroupMember,
  KafkaCluster,
  KafkaRecord,
  PartitionLag,
  PartitionOffsets,
  TopicDescription,
  TopicReader,
  TopicSpec,
} from './adapters/kafka.js';
export type { FlagEvaluator, FlagProvider, FlagState } from './adapters/flags.js';
export type { RegisteredSchema, SchemaRegistry, SchemaScope } from './adapters/schemas.js';
