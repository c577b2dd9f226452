// Uploads one file with tus-js-client (Node) and prints the upload's URL.
// Usage: node tus_upload.js ENDPOINT FILE CHUNK_SIZE NAME
'use strict';
const fs = require('fs');
const tus = require('tus-js-client');

const [endpoint, file, chunkSize, name] = process.argv.slice(2);
const data = fs.readFileSync(file);
const upload = new tus.Upload(data, {
  endpoint,
  chunkSize: Number(chunkSize),
  retryDelays: [0, 200, 500, 1000, 2000, 4000],
  metadata: { filename: name, filetype: 'application/octet-stream' },
  onError(err) {
    console.error('upload failed: ' + err);
    process.exit(1);
  },
  onSuccess() {
    console.log(upload.url);
  },
});
upload.start();
