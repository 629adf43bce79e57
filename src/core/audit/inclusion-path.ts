/**
 * The shape of an RFC 9162 (section 2.1.3.2) inclusion proof, apart from hashing: for a leaf at
 * `index` in a tree of `size` leaves and a proof of `proofLength` hashes, on which side each proof
 * hash joins the running hash (`true`: the proof hash is the left child), or null when no proof of
 * that length can exist. The Node verifier (merkle.ts) and the transcript verifier (WebCrypto, also
 * in browsers) fold hashes along this one path.
 */
export function inclusionSides(index: number, size: number, proofLength: number): boolean[] | null {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null;
  let fn = index;
  let sn = size - 1;
  const sides: boolean[] = [];
  for (let i = 0; i < proofLength; i++) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      sides.push(true);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sides.push(false);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? sides : null;
}
