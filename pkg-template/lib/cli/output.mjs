// The CLI's stdout and stderr, without Node's stream objects until something needs one: process.stdout and
// process.stderr are made on first use, and making the first loads Node's streams (~20 of its modules, 3-10 ms of
// `ctxpack id`). What the CLI prints itself goes to the file descriptor by a synchronous write. A command given
// the stream (`cat` pipes into it), a terminal (the progress bar asks its width) or a write that fails (a full
// non-blocking pipe, a closed one) makes the stream, and from then on everything goes through it, in order.
import fs from 'node:fs';

export class ProcessOutput {
  #fd;
  #stream;

  /** @param {1 | 2} fd standard output or standard error */
  constructor(fd) {
    this.#fd = fd;
  }

  /** process.stdout or process.stderr, made now if it was not. */
  get stream() {
    this.#stream ??= this.#fd === 1 ? process.stdout : process.stderr;
    return this.#stream;
  }

  /** Only a character device can be a terminal: a pipe or a file is told without making the stream. */
  get isTTY() {
    return (this.#stream !== undefined || this.#characterDevice()) && Boolean(this.stream.isTTY);
  }

  get columns() {
    return this.stream.columns;
  }

  /** @param {string} text */
  write(text) {
    if (this.#stream) return this.#stream.write(text);
    const bytes = Buffer.from(text);
    let written = 0;
    try {
      while (written < bytes.length) written += fs.writeSync(this.#fd, bytes, written);
    } catch {
      // EAGAIN, EPIPE, EBADF...: the stream writes the rest, and reports a failure as it always did.
      return this.stream.write(bytes.subarray(written));
    }
    return true;
  }

  #characterDevice() {
    try {
      return fs.fstatSync(this.#fd).isCharacterDevice();
    } catch {
      return false;
    }
  }
}

/** The stream behind `output` for a command: a ProcessOutput's Node stream, any other stream itself. */
export function streamOf(output) {
  return output instanceof ProcessOutput ? output.stream : output;
}
