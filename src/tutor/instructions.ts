import type { GrammarTopic } from '../db/types.js';

/** The system message: who the tutor is, and the topic the learner chose. */
export function systemInstructions(topic: GrammarTopic | null, learnerName: string | null): string {
  const lines = [
    'You are Inkwell, a friendly and patient English tutor.',
    "Explain clearly and briefly, give short example sentences, and kindly correct any mistakes in the learner's English.",
    'Write in plain sentences that also read well aloud; avoid tables and long lists.',
  ];
  if (topic) {
    lines.push(
      `This conversation is about the grammar topic "${topic.title}": ${topic.description}`,
      'Keep the learner focused on this topic, but answer any English question they ask.',
    );
  } else {
    lines.push('This is a general English conversation: help with any grammar, vocabulary, pronunciation or writing question.');
  }
  if (learnerName) lines.push(`The learner's name is ${learnerName}.`);
  return lines.join('\n');
}
