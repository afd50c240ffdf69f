'use strict';
// Signs JSON texts the way Canopy's JavaScript does, with Node's own JSON and
// crypto (no packages), so the gateway's tests compare with the real thing:
//   signature = base64(HMAC-SHA256(secret, JSON.stringify(JSON.parse(text))))
//
// Usage: node canopy_sign.js SECRET < texts
// stdin: one text per line, each written as a JSON string (so any text fits
// on a line). stdout: one line per text, `null` when JSON.parse refuses it,
// else {"stringified": …, "signature": …}. All of stdin is read before
// anything is written, so a caller may write its whole batch first.
const crypto = require('node:crypto');

const secret = process.argv[2];
if (secret === undefined) {
  process.stderr.write('usage: node canopy_sign.js SECRET < texts\n');
  process.exit(2);
}

function sign(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const stringified = JSON.stringify(value);
  const signature = crypto.createHmac('sha256', secret).update(stringified, 'utf8').digest('base64');
  return { stringified, signature };
}

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter((line) => line !== '');
  const answers = lines.map((line) => JSON.stringify(sign(JSON.parse(line))));
  process.stdout.write(answers.map((answer) => answer + '\n').join(''));
});
