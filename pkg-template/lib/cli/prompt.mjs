// Interactive questions for `ctxpack login`: a line, or a secret read without echo from a terminal.
import { CtxpackError } from '../errors.mjs';

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const BACKSPACES = new Set(['\u007f', '\b']);

/** All of stdin, without the final newline (for --password-stdin). */
export async function readAll(stdin) {
  let text = '';
  stdin.setEncoding('utf8');
  for await (const chunk of stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

/**
 * Ask on `output`, read one line from the terminal `input`. With `secret`, nothing typed is echoed.
 * @returns {Promise<string>}
 */
export function ask(question, { input, output, secret = false }) {
  if (!input.isTTY) {
    throw new CtxpackError('CTX_USAGE', `cannot ask for the ${secret ? 'password' : 'username'}: stdin is not a terminal`, {
      hint: 'pass --username and give the password on stdin with --password-stdin',
    });
  }
  output.write(question);
  return new Promise((resolve, reject) => {
    let answer = '';
    input.setRawMode(true);
    input.setEncoding('utf8');
    const finish = (error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      output.write('\n');
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (chunk) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === CTRL_D) return finish();
        if (char === CTRL_C) return finish(new CtxpackError('CTX_USAGE', 'login cancelled', { hint: 'nothing was stored' }));
        if (BACKSPACES.has(char)) {
          if (answer.length > 0 && !secret) output.write('\b \b');
          answer = answer.slice(0, -1);
        } else {
          answer += char;
          if (!secret) output.write(char);
        }
      }
      return undefined;
    };
    input.on('data', onData);
    input.resume();
  });
}
