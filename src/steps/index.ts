import type { StepType } from './contract.js';
import { confirmStep } from './confirm.js';
import { kafkaDrainStep } from './kafka-drain.js';
import { kafkaTopicStep } from './kafka-topic.js';

/** Every built-in step type, by the name playbooks use in `uses:`. */
export const stepTypes: ReadonlyMap<string, StepType<unknown>> = new Map(
  ([kafkaTopicStep, kafkaDrainStep, confirmStep] as StepType<never>[]).map((s) => [s.type, s as StepType<unknown>]),
);
