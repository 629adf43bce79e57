/* Offline transcript verification in the browser: the same checks as `npm run transcript:verify`
 * (RFC 6962 inclusion proofs, C2SP signed checkpoint with Ed25519, conversation chain, salted
 * content commitments), with WebCrypto. */
(function () {
  'use strict';
  var enc = new TextEncoder();
  var dec = new TextDecoder();

  function b64(s) {
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }
  function concat() {
    var parts = Array.prototype.slice.call(arguments);
    var n = parts.reduce(function (a, p) { return a + p.length; }, 0);
    var out = new Uint8Array(n);
    var o = 0;
    parts.forEach(function (p) { out.set(p, o); o += p.length; });
    return out;
  }
  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  }
  var leafHash = function (d) { return sha256(concat(new Uint8Array([0]), d)); };
  var nodeHash = function (l, r) { return sha256(concat(new Uint8Array([1]), l, r)); };

  async function verifyInclusion(index, size, leaf, proof, root) {
    if (index < 0 || index >= size) return false;
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (p.length !== 32 || sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, root);
  }

  async function openNote(note, key) {
    var split = note.lastIndexOf('\n\n');
    if (split < 0) throw new Error('checkpoint is not a signed note');
    var body = note.slice(0, split + 1);
    var lines = note.slice(split + 2, -1).split('\n');
    var all = key.trim().split('+');
    var parts = [all[0], all[1], all.slice(2).join('+')];
    if (all.length < 3) throw new Error('public key must look like name+id+base64key');
    var raw = b64(parts[2]);
    if (raw.length !== 33 || raw[0] !== 1) throw new Error('not an Ed25519 public key');
    var id = (await sha256(concat(enc.encode(parts[0] + '\n'), new Uint8Array([1]), raw.subarray(1)))).subarray(0, 4);
    if (hex(id) !== parts[1]) throw new Error('public key id does not match the key');
    var pub = await crypto.subtle.importKey('raw', raw.subarray(1), { name: 'Ed25519' }, false, ['verify']);
    for (var i = 0; i < lines.length; i++) {
      var m = /^\u2014 (\S+) (\S+)$/.exec(lines[i]);
      if (!m || m[1] !== parts[0]) continue;
      var sig = b64(m[2]);
      if (!equal(sig.subarray(0, 4), id)) continue;
      if (await crypto.subtle.verify({ name: 'Ed25519' }, pub, sig.subarray(4), enc.encode(body))) return body;
      throw new Error('checkpoint signature is invalid');
    }
    throw new Error('checkpoint is not signed by this key');
  }

  async function verify(bundle, key) {
    var problems = [];
    var turns = [];
    if (bundle.format !== 'helpdesk-transcript/v1') throw new Error('not a transcript bundle');
    var body = await openNote(bundle.checkpoint, key);
    var lines = body.split('\n');
    if (lines[0] !== bundle.origin) throw new Error('checkpoint has the wrong origin');
    var size = Number(lines[1]);
    var root = b64(lines[2]);
    var prev = null, lastSeq = 0, lastIdx = -1, closedAt = null;
    var domain = enc.encode('helpdesk/turn-content/v1\n');
    for (var i = 0; i < bundle.entries.length; i++) {
      var e = bundle.entries[i];
      var header = b64(e.header);
      var leaf = await leafHash(header);
      if (!(await verifyInclusion(e.idx, size, leaf, e.proof.map(b64), root))) {
        problems.push('entry #' + e.idx + ': not in the signed log (altered or forged)');
        continue;
      }
      var h = JSON.parse(dec.decode(header));
      if (h.conv !== bundle.conversationId) problems.push('entry #' + e.idx + ': belongs to another conversation');
      if (e.idx <= lastIdx) problems.push('entry #' + e.idx + ': out of order');
      lastIdx = e.idx;
      if (h.prev !== prev) problems.push('entry #' + e.idx + ': does not follow the previous entry (an entry was removed or reordered)');
      prev = hex(leaf);
      if (h.kind === 'close') closedAt = h.seq;
      if (h.kind !== 'turn') continue;
      if (h.seq !== lastSeq + 1) problems.push('turn ' + h.seq + ': turn ' + (lastSeq + 1) + ' is missing');
      lastSeq = h.seq;
      closedAt = null;
      var text = null, status = 'verified';
      if (e.content) {
        var bytes = b64(e.content.bytes);
        var commit = hex(await sha256(concat(domain, b64(e.content.salt), bytes)));
        if (commit !== h.commit) problems.push('turn ' + h.seq + ': content altered');
        else text = JSON.parse(dec.decode(bytes)).text;
      } else if (typeof e.erasedBy === 'number') status = 'erased';
      else if (e.withheld === true) status = 'withheld';
      else problems.push('turn ' + h.seq + ': content missing');
      turns.push({ seq: h.seq, role: h.role, at: h.at, status: status, text: text });
    }
    if (closedAt !== null && closedAt !== lastSeq) problems.push('closed after ' + closedAt + ' turns but ' + lastSeq + ' are present');
    return { problems: problems, turns: turns, size: size };
  }

  var result = document.getElementById('result');
  var keyInput = document.getElementById('key');
  fetch('/log/public-key').then(function (r) { return r.ok ? r.text() : ''; }).then(function (k) {
    if (k && !keyInput.value) keyInput.value = k.trim();
  }).catch(function () {});

  document.getElementById('verify').addEventListener('click', async function () {
    var file = document.getElementById('file').files[0];
    if (!file) { result.textContent = '请先选择文件 / Choose a file first.'; return; }
    try {
      var bundle = JSON.parse(await file.text());
      var out = await verify(bundle, keyInput.value);
      var ok = out.problems.length === 0;
      var text = (ok ? '✔ 验证通过 / VERIFIED' : '✘ 验证失败 / FAILED') + ' — ' + out.turns.length + ' turns, tree size ' + out.size + '\n';
      out.problems.forEach(function (p) { text += '  ! ' + p + '\n'; });
      text += '\n';
      out.turns.forEach(function (t) {
        var body = t.status === 'erased' ? '(erased / 已删除)' : t.status === 'withheld' ? '(internal note / 内部备注)' : t.text;
        text += '#' + t.seq + ' ' + new Date(t.at).toISOString() + ' ' + t.role + ': ' + body + '\n';
      });
      result.className = ok ? 'ok' : 'bad';
      result.textContent = text;
    } catch (err) {
      result.className = 'bad';
      result.textContent = '✘ 验证失败 / FAILED: ' + (err && err.message ? err.message : String(err));
    }
  });
})();
