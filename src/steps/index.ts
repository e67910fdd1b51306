import type { StepType, StepTypes } from './contract.js';
import { codeAbsentStep } from './code-absent.js';
import { confirmStep } from './confirm.js';
import { execStep } from './exec.js';
import { flagCheckStep } from './flag-check.js';
import { flagSetStep } from './flag-set.js';
import { httpProbeStep } from './http-probe.js';
import { kafkaConsumersStep } from './kafka-consumers.js';
import { kafkaDrainStep } from './kafka-drain.js';
import { kafkaQuietStep } from './kafka-quiet.js';
import { kafkaRetireStep } from './kafka-retire.js';
import { kafkaVerifyStep } from './kafka-verify.js';
import { kafkaTopicStep } from './kafka-topic.js';
import { pauseStep } from './pause.js';
import { schemaRegisterStep } from './schema-register.js';

// Every built-in step type. A plain list: a new type is one more line.
const all = [
  kafkaTopicStep,
  kafkaConsumersStep,
  kafkaVerifyStep,
  kafkaQuietStep,
  kafkaDrainStep,
  kafkaRetireStep,
  flagCheckStep,
  flagSetStep,
  httpProbeStep,
  schemaRegisterStep,
  codeAbsentStep,
  confirmStep,
  pauseStep,
  execStep,
] as StepType<never>[];

/** Every built-in step type, by the name playbooks use in `uses:` (plugins add theirs: steps/plugins.ts). */
export const stepTypes: StepTypes = new Map(all.map((s) => [s.type, s as StepType<unknown>]));
