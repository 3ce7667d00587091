/**
 * `node --import ./die-with-parent.mjs …` for hubs the tests spawn: the child exits when its stdin
 * (a pipe from the test process) closes, so a test that times out or a worker that is killed
 * leaves no hub running behind it.
 */
process.stdin.on("end", () => process.exit(1));
process.stdin.on("error", () => process.exit(1));
process.stdin.resume();
