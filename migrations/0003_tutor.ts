import { sql, type Kysely } from 'kysely';

const TOPICS: Array<[string, string]> = [
  ['Present simple', 'Habits, facts and timetables: "She works in Paris." Third-person -s, do/does in questions and negatives, adverbs of frequency.'],
  ['Present continuous', 'Actions happening now or around now and fixed future plans: "I am reading." Stative verbs that rarely take -ing.'],
  ['Past simple', 'Finished actions at a stated past time: "We met in 2019." Regular -ed endings, common irregular verbs, did in questions.'],
  ['Past continuous', 'An action in progress at a past moment, often interrupted: "I was cooking when you called." Background versus events in stories.'],
  [
    'Present perfect',
    'Past actions linked to now: experience, change, unfinished time: "I have lived here for ten years." for/since, ever/never, just/already/yet, and how it differs from the past simple.',
  ],
  ['Past perfect', 'The earlier of two past events: "The train had left when we arrived." Sequencing in narratives and reported speech.'],
  ['Future forms', 'will, be going to, present continuous and present simple for the future: predictions, intentions, arrangements and schedules.'],
  ['Conditionals', 'Zero, first, second and third conditionals and mixed forms: real and unreal situations, "If I had known, I would have come."'],
  ['Articles', 'a/an, the and no article: first mention, shared knowledge, generic statements, countable and uncountable nouns, names and places.'],
  ['Modal verbs', 'can, could, may, might, must, have to, should, ought to: ability, permission, obligation, advice, deduction and possibility.'],
  ['Passive voice', 'be + past participle across tenses: "The bridge was built in 1890." When to use it, agent with by, get-passives.'],
  ['Reported speech', 'Reporting statements, questions and commands: tense backshift, changes to pronouns and time words, say versus tell.'],
  ['Relative clauses', 'who, which, that, whose, where: defining and non-defining clauses, commas, and when the relative pronoun can be left out.'],
  ['Gerunds and infinitives', 'Verbs followed by -ing or to-infinitive ("enjoy reading", "decide to go"), changes of meaning (stop, remember, try), and after prepositions.'],
  ['Prepositions of time and place', 'in, on, at for time and place, plus by, until, during, for, since, between and among, with common fixed phrases.'],
  ['Comparatives and superlatives', 'Comparing with -er/more and -est/most, irregular forms, as ... as, and modifiers like much, far, a bit.'],
  ['Countable and uncountable nouns', 'much/many, a few/a little, some/any, a lot of, and nouns that change meaning (a paper / paper).'],
  ['Phrasal verbs', 'Verb + particle combinations (give up, look after, run out of): separable and inseparable forms and common meanings.'],
];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('grammar_topics')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull())
    .execute();
  await db
    .insertInto('grammar_topics')
    .values(TOPICS.map(([title, description]) => ({ title, description })))
    .execute();

  await db.schema
    .createTable('tutor_messages')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('grammar_id', 'integer')
    .addColumn('turn_id', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('feedback', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('tutor_messages_user_topic').on('tutor_messages').columns(['user_id', 'grammar_id', 'id']).execute();
  await db.schema.createIndex('tutor_messages_turn').on('tutor_messages').column('turn_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('tutor_messages').execute();
  await db.schema.dropTable('grammar_topics').execute();
}
