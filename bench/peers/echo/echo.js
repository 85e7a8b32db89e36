// Copied unchanged from the project's shared bench harness (bench_peers/node/echo.js), 2026-12-04.
// Node.js `net` echo server. usage: node echo.js PORT
const net = require('net');
const port = Number(process.argv[2]);
const server = net.createServer({ noDelay: true }, (s) => {
  s.setNoDelay(true);
  s.on('data', (d) => s.write(d));
  s.on('error', () => {});
});
server.listen(port, '127.0.0.1', 1024);
