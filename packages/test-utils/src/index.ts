export { writeSampleBento, type SampleBento, type SampleBentoOptions, type SampleModelSpec } from './sample-bento.js';
export { hashTree, diffTrees, type HashTreeOptions } from './hash-tree.js';
export { makeScratchDir, removeScratchDirs } from './scratch-dir.js';
export { python, hasPython, type PythonOptions } from './python.js';
export { seededRandom, deriveSeed, seededVersion, type SeededRandom } from './seeded-random.js';
export { pyyamlDump, type YamlValue } from './pyyaml-dump.js';
export { startDaemon, startDaemonOnPorts, waitForBanner, type Daemon } from './daemon.js';
export { freePort, freePortRange } from './free-port.js';
export { ensureLocalUser, rootRequirement } from './local-user.js';
