import OpenAI, { toFile } from 'openai';
import { callProvider, type ProviderDeadline } from '../provider-call.js';
import type { DecodedAudio } from './audio-question.js';
import { TutorError } from './tutor-error.js';
import type { ModelMessage, TutorModel } from './tutor-model.js';

export interface TutorModelSettings {
  chatModel: string;
  transcribeModel: string;
  ttsModel: string;
  ttsVoice: string;
  /** One bound per provider request, retries included. */
  deadline: ProviderDeadline;
}

/** The tutor's model on the OpenAI API (or any server speaking it, such as the tests' fake). */
export class OpenAITutorModel implements TutorModel {
  constructor(
    private readonly openai: OpenAI,
    private readonly settings: TutorModelSettings,
  ) {}

  async transcribe(audio: DecodedAudio, signal: AbortSignal): Promise<string> {
    try {
      const { transcribeModel, deadline } = this.settings;
      const result = await callProvider(deadline, signal, async () =>
        this.openai.audio.transcriptions.create({ file: await toFile(audio.bytes, `question.${audio.ext}`, { type: audio.mime }), model: transcribeModel }, { signal }),
      );
      return result.text;
    } catch (err) {
      if (err instanceof OpenAI.BadRequestError && !signal.aborted) {
        throw new TutorError('bad_audio', 'The audio could not be understood as a recording; send wav, webm, mp3, m4a, ogg or flac.', err);
      }
      throw err;
    }
  }

  async answer(messages: ModelMessage[], signal: AbortSignal): Promise<AsyncIterable<string>> {
    const { chatModel, deadline } = this.settings;
    const stream = await callProvider(deadline, signal, () => this.openai.chat.completions.create({ model: chatModel, messages, stream: true }, { signal }));
    return (async function* () {
      // Empty pieces too: each chunk shows the stream is alive.
      for await (const chunk of stream) yield chunk.choices[0]?.delta?.content ?? '';
    })();
  }

  async speak(sentence: string, signal: AbortSignal): Promise<Buffer> {
    const { ttsModel, ttsVoice, deadline } = this.settings;
    const res = await callProvider(deadline, signal, () =>
      this.openai.audio.speech.create({ model: ttsModel, voice: ttsVoice, input: sentence, response_format: 'mp3' }, { signal }),
    );
    return Buffer.from(await res.arrayBuffer());
  }
}
