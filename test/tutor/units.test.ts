// Domain pieces without a server: sentence splitting for speech, audio data URLs, client frames.
import t from 'tap';
import { decodeAudioDataUrl } from '../../src/tutor/audio-question.js';
import { parseClientFrame } from '../../src/tutor/protocol.js';
import { SentenceSplitter } from '../../src/tutor/sentences.js';
import { TutorError } from '../../src/tutor/tutor-error.js';

t.test('sentences complete as soon as the next piece starts', async (t) => {
  const s = new SentenceSplitter();
  t.same(s.push('Hello'), []);
  t.same(s.push(' there'), []);
  t.same(s.push('. How'), ['Hello there.'], 'complete once whitespace follows the stop');
  t.same(s.push(' are you? I am'), ['How are you?']);
  t.same(s.push(' fine!\n'), ['I am fine!']);
  t.same(s.push('Dr. Who met Mr. Smith at 3.30 p.m. today. Next'), ['Dr. Who met Mr. Smith at 3.30 p.m. today.'], 'abbreviations and numbers do not end sentences');
  t.same(s.push(' "Quoted." Then'), ['Next "Quoted."']);
  t.same(s.push(' **bold** words'), []);
  t.same(s.flush(), ['Then bold words'], 'markdown marks are not read aloud');
  t.same(s.flush(), []);
  t.same(new SentenceSplitter().push('- item one\n- item two\n'), ['item one', 'item two']);
  t.same(new SentenceSplitter().push('... \n *** \n'), [], 'nothing speakable, nothing spoken');

  const runOn = new SentenceSplitter();
  const clause = 'and then the learner kept on writing without any full stop at all';
  const parts = runOn.push(`${clause}, ${clause}, ${clause}, ${clause}, ${clause}`);
  t.ok(parts.length >= 1, 'a run-on sentence is spoken before it ends');
  for (const part of parts) t.ok(part.length <= 300 && part.endsWith(','), part);
  t.equal([...parts, ...runOn.flush()].join(' '), `${clause}, ${clause}, ${clause}, ${clause}, ${clause}`, 'nothing lost');
});

t.test('audio data URLs: type, base64, size', async (t) => {
  const ok = decodeAudioDataUrl(`data:audio/webm;codecs=opus;base64,${Buffer.from('abc').toString('base64')}`, 10);
  t.same(ok, { bytes: Buffer.from('abc'), mime: 'audio/webm', ext: 'webm' });
  t.equal(decodeAudioDataUrl('data:audio/mpeg;base64,QUJD', 10).ext, 'mp3');
  t.equal(decodeAudioDataUrl('data:audio/x-wav;base64,QUJD', 10).ext, 'wav');
  t.equal(decodeAudioDataUrl('data:audio/mp4;base64,QUJD', 10).ext, 'mp4');
  const bad = (url: string, max = 10) => {
    try {
      decodeAudioDataUrl(url, max);
    } catch (err) {
      return err instanceof TutorError ? `${err.code}: ${err.message}` : String(err);
    }
    return 'accepted';
  };
  t.match(bad('data:audio/aiff;base64,QUJD'), /^bad_audio: audio\/aiff is not supported/);
  t.match(bad('data:video/webm;base64,QUJD'), /^bad_audio: audio must be a data URL/);
  t.match(bad('data:audio/wav,QUJD'), /^bad_audio: audio must be a data URL/, 'base64 encoding is required');
  t.match(bad('data:audio/wav;base64,QUJ'), /^bad_audio: audio is not valid base64/);
  t.match(bad('data:audio/wav;base64,QU=D'), /^bad_audio: audio is not valid base64/);
  t.match(bad(`data:audio/wav;base64,${Buffer.alloc(11).toString('base64')}`), /^bad_audio: audio is larger than 10 bytes/);
  t.match(bad(`data:audio/wav;base64,${'A'.repeat(1_000_000)}`), /larger than/, 'refused before decoding');
  t.equal(bad(`data:audio/wav;base64,${Buffer.alloc(10).toString('base64')}`), 'accepted');
});

t.test('client frames', async (t) => {
  t.same(parseClientFrame('{"data":"Hi","speak":true}'), { kind: 'question', question: { kind: 'text', text: 'Hi', speak: true } });
  t.same(parseClientFrame('{"audio":"data:audio/wav;base64,QUJD"}'), { kind: 'question', question: { kind: 'audio', dataUrl: 'data:audio/wav;base64,QUJD', speak: false } });
  t.same(parseClientFrame('{"command":"stop"}'), { kind: 'stop' });
  t.same(parseClientFrame('{"command":"thumb-down","responseId":"r1"}'), { kind: 'feedback', responseId: 'r1', value: 'thumb-down' });
  const err = (text: string) => {
    const r = parseClientFrame(text);
    return r instanceof TutorError ? `${r.code}: ${r.message}` : 'accepted';
  };
  t.match(err('nope'), /^bad_json/);
  t.match(err('{"data":"Hi","speak":"yes"}'), /^invalid_message: speak/);
  t.match(err('{"command":"thumb-up","responseId":""}'), /^invalid_message: responseId/);
  t.match(err(`{"command":"thumb-up","responseId":"${'x'.repeat(65)}"}`), /^invalid_message: responseId/);
  t.match(err('null'), /^invalid_message/);
});
