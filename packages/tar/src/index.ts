// Tar framing: BentoML's tar layout written byte for byte, and read back as entries.
export { encodeTar, encodeTarSegments, tarByteLength, type EncodeTarOptions, type TarSegment } from './tar-encoder.js';
export { decodeTar, type DecodeTarOptions } from './tar-decoder.js';
export { looksLikeTarHeader } from './tar-sniff.js';

// What every codec that compresses the tar stream builds on: cut it into pieces by class,
// compress the pieces concurrently in order, and hand out the bytes as an abortable stream.
export { cutIntoClassedPieces, type ClassedPiece } from './classed-pieces.js';
export { PieceBuffers } from './piece-buffers.js';
export { mapInOrder } from './map-in-order.js';
export { abortableEncoderOutput, type EncoderOutputOptions } from './encoder-output.js';
