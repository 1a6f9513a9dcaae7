/**
 * Frames `payload` as one unmasked, final WebSocket text frame (RFC 6455 §5.2): header and payload
 * in a single buffer, so a broadcast is framed once and the same bytes go to every recipient.
 * Servers never mask (§5.1), which is what makes the frame reusable.
 */
export function frameText(payload: Buffer): Buffer {
  const len = payload.length;
  const headerLength = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + len);
  frame[0] = 0x81; // FIN + opcode 1 (text)
  if (len < 126) {
    frame[1] = len;
  } else if (len < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(len), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}
