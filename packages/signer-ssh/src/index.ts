export { sshSigner, type SshSignerOptions } from './ssh-signer.js';
export { sshVerifier, type SshVerifierOptions } from './ssh-verifier.js';
