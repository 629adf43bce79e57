import { describe, expect, it } from 'vitest';
import {
  appendLeaf,
  completeSubtrees,
  consistencyRanges,
  emptyFrontier,
  foldSubtrees,
  frontierRoot,
  inclusionRanges,
  leafHash,
  nodeHash,
  rootOfLeaves,
  verifyConsistency,
  verifyInclusion,
} from '../../src/core/index.js';

/**
 * Expected values computed independently by a direct Python transcription of the RFC 6962 recursive
 * definitions (MTH, PATH, SUBPROOF) over the 8 leaves used by Certificate Transparency's own test
 * data. The 8-leaf root equals the one published in CT's test suite (5dc9da79…).
 */
const VECTORS: {
  leaves: string[];
  roots: string[];
  inclusion: Array<{ index: number; size: number; path: string[] }>;
  consistency: Array<{ size1: number; size2: number; proof: string[] }>;
} = {
  leaves: ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'],
  roots: [
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ],
  inclusion: [
    { index: 0, size: 1, path: [] },
    { index: 0, size: 2, path: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7'] },
    { index: 1, size: 2, path: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'] },
    {
      index: 0,
      size: 3,
      path: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7'],
    },
    {
      index: 1,
      size: 3,
      path: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7'],
    },
    { index: 2, size: 3, path: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
    {
      index: 0,
      size: 4,
      path: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e'],
    },
    {
      index: 1,
      size: 4,
      path: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e'],
    },
    {
      index: 2,
      size: 4,
      path: ['07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7', 'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'],
    },
    {
      index: 3,
      size: 4,
      path: ['0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7', 'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'],
    },
    {
      index: 0,
      size: 5,
      path: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    },
    {
      index: 1,
      size: 5,
      path: [
        '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    },
    {
      index: 2,
      size: 5,
      path: [
        '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
        'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    },
    {
      index: 3,
      size: 5,
      path: [
        '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
        'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    },
    { index: 4, size: 5, path: ['d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
    {
      index: 0,
      size: 6,
      path: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      ],
    },
    {
      index: 1,
      size: 6,
      path: [
        '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      ],
    },
    {
      index: 2,
      size: 6,
      path: [
        '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
        'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      ],
    },
    {
      index: 3,
      size: 6,
      path: [
        '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
        'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      ],
    },
    {
      index: 4,
      size: 6,
      path: ['4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'],
    },
    {
      index: 5,
      size: 6,
      path: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'],
    },
    {
      index: 0,
      size: 7,
      path: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e',
      ],
    },
    {
      index: 1,
      size: 7,
      path: [
        '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e',
      ],
    },
    {
      index: 2,
      size: 7,
      path: [
        '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
        'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
        '837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e',
      ],
    },
    {
      index: 3,
      size: 7,
      path: [
        '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
        'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
        '837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e',
      ],
    },
    {
      index: 4,
      size: 7,
      path: [
        '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
        'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    {
      index: 5,
      size: 7,
      path: [
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
        'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    {
      index: 6,
      size: 7,
      path: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'],
    },
    {
      index: 0,
      size: 8,
      path: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    },
    {
      index: 1,
      size: 8,
      path: [
        '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    },
    {
      index: 2,
      size: 8,
      path: [
        '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
        'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    },
    {
      index: 3,
      size: 8,
      path: [
        '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
        'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    },
    {
      index: 4,
      size: 8,
      path: [
        '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    {
      index: 5,
      size: 8,
      path: [
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    {
      index: 6,
      size: 8,
      path: [
        '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    {
      index: 7,
      size: 8,
      path: [
        'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
  ],
  consistency: [
    { size1: 1, size2: 2, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7'] },
    {
      size1: 1,
      size2: 3,
      proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7'],
    },
    { size1: 2, size2: 3, proof: ['0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7'] },
    {
      size1: 1,
      size2: 4,
      proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e'],
    },
    { size1: 2, size2: 4, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e'] },
    {
      size1: 3,
      size2: 4,
      proof: [
        '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
        '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
        'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      ],
    },
    {
      size1: 1,
      size2: 5,
      proof: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    },
    {
      size1: 2,
      size2: 5,
      proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'],
    },
    {
      size1: 3,
      size2: 5,
      proof: [
        '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
        '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
        'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    },
    { size1: 4, size2: 5, proof: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
    {
      size1: 1,
      size2: 6,
      proof: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      ],
    },
    {
      size1: 2,
      size2: 6,
      proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a'],
    },
    {
      size1: 3,
      size2: 6,
      proof: [
        '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
        '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
        'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      ],
    },
    { size1: 4, size2: 6, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a'] },
    {
      size1: 5,
      size2: 6,
      proof: [
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
        '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    {
      size1: 1,
      size2: 7,
      proof: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e',
      ],
    },
    {
      size1: 2,
      size2: 7,
      proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e'],
    },
    {
      size1: 3,
      size2: 7,
      proof: [
        '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
        '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
        'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
        '837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e',
      ],
    },
    { size1: 4, size2: 7, proof: ['837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e'] },
    {
      size1: 5,
      size2: 7,
      proof: [
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
        '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
        'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    {
      size1: 6,
      size2: 7,
      proof: [
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
        'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    {
      size1: 1,
      size2: 8,
      proof: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    },
    {
      size1: 2,
      size2: 8,
      proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'],
    },
    {
      size1: 3,
      size2: 8,
      proof: [
        '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
        '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
        'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    },
    { size1: 4, size2: 8, proof: ['6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
    {
      size1: 5,
      size2: 8,
      proof: [
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
        '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    {
      size1: 6,
      size2: 8,
      proof: [
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    {
      size1: 7,
      size2: 8,
      proof: [
        'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
        '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
  ],
};

const hex = (h: string) => Buffer.from(h, 'hex');
const leaves = VECTORS.leaves.map((l) => leafHash(hex(l)));

/** Builds every proof hash from a list of leaf hashes in memory, through the same range functions storage uses. */
function rangeHash(all: Buffer[], start: number, end: number): Buffer {
  const subtrees = completeSubtrees(start, end).map(({ level, index }) => rootOfLeaves(all.slice(index * 2 ** level, (index + 1) * 2 ** level)));
  return foldSubtrees(subtrees);
}

describe('RFC 6962 Merkle tree', () => {
  it('computes the published roots of every prefix of the CT test leaves', () => {
    VECTORS.roots.forEach((root, size) => {
      expect(rootOfLeaves(leaves.slice(0, size)).toString('hex')).toBe(root);
    });
  });

  it('produces and accepts the independently computed inclusion proofs', () => {
    for (const v of VECTORS.inclusion) {
      const proof = inclusionRanges(v.index, v.size).map(([a, b]) => rangeHash(leaves, a, b));
      expect(proof.map((p) => p.toString('hex'))).toEqual(v.path);
      expect(verifyInclusion(v.index, v.size, leaves[v.index] as Buffer, proof, hex(VECTORS.roots[v.size] as string))).toBe(true);
    }
  });

  it('produces and accepts the independently computed consistency proofs', () => {
    for (const v of VECTORS.consistency) {
      const proof = consistencyRanges(v.size1, v.size2).map(([a, b]) => rangeHash(leaves, a, b));
      expect(proof.map((p) => p.toString('hex'))).toEqual(v.proof);
      const ok = verifyConsistency(v.size1, v.size2, proof, hex(VECTORS.roots[v.size1] as string), hex(VECTORS.roots[v.size2] as string));
      expect(ok, `${v.size1}->${v.size2}`).toBe(true);
    }
  });

  it('rejects mutated inclusion proofs: index off by one, wrong size, truncated, padded, altered', () => {
    const all = Array.from({ length: 77 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
    for (const size of [2, 3, 8, 13, 64, 77]) {
      const root = rootOfLeaves(all.slice(0, size));
      for (let index = 0; index < size; index += 3) {
        const proof = inclusionRanges(index, size).map(([a, b]) => rangeHash(all, a, b));
        const leaf = all[index] as Buffer;
        expect(verifyInclusion(index, size, leaf, proof, root)).toBe(true);
        if (index + 1 < size) expect(verifyInclusion(index + 1, size, leaf, proof, root)).toBe(false);
        if (index > 0) expect(verifyInclusion(index - 1, size, leaf, proof, root)).toBe(false);
        // The size is bound by the signed checkpoint; a proof alone only fixes the tree's shape.
        expect(verifyInclusion(index, size * 2, leaf, proof, root)).toBe(false);
        if (inclusionRanges(index, size + 1).length !== proof.length) expect(verifyInclusion(index, size + 1, leaf, proof, root)).toBe(false);
        expect(verifyInclusion(index, index, leaf, proof, root)).toBe(false);
        expect(verifyInclusion(index, size, leaf, proof.slice(0, -1), root)).toBe(false);
        expect(verifyInclusion(index, size, leaf, [...proof, root], root)).toBe(false);
        if (proof.length > 0) {
          const altered = proof.map((p, i) => (i === 0 ? Buffer.from(p.map((x) => x ^ 1)) : p));
          expect(verifyInclusion(index, size, leaf, altered, root)).toBe(false);
        }
      }
    }
  });

  it('rejects mutated consistency proofs and a tree that is not an extension', () => {
    const all = Array.from({ length: 40 }, (_, i) => leafHash(Buffer.from(`entry ${i}`)));
    const forked = all.map((l, i) => (i === 5 ? leafHash(Buffer.from('forked')) : l));
    for (const [m, n] of [
      [1, 2],
      [3, 7],
      [4, 8],
      [6, 40],
      [16, 33],
      [31, 32],
    ] as const) {
      const proof = consistencyRanges(m, n).map(([a, b]) => rangeHash(all, a, b));
      const r1 = rootOfLeaves(all.slice(0, m));
      const r2 = rootOfLeaves(all.slice(0, n));
      expect(verifyConsistency(m, n, proof, r1, r2)).toBe(true);
      expect(verifyConsistency(m, n, proof.slice(0, -1), r1, r2)).toBe(false);
      expect(verifyConsistency(m, n, [...proof, r2], r1, r2)).toBe(false);
      expect(verifyConsistency(m, n * 2, proof, r1, r2)).toBe(false);
      expect(verifyConsistency(n, m, proof, r2, r1)).toBe(false);
      if (m > 5) expect(verifyConsistency(m, n, proof, rootOfLeaves(forked.slice(0, m)), r2)).toBe(false);
    }
  });

  it('does not accept an inner node presented as a 64-byte leaf (second preimage)', () => {
    const data = [Buffer.from('a'), Buffer.from('b'), Buffer.from('c'), Buffer.from('d')];
    const l = data.map(leafHash);
    const root = rootOfLeaves(l);
    const left = nodeHash(l[0] as Buffer, l[1] as Buffer);
    const right = nodeHash(l[2] as Buffer, l[3] as Buffer);
    // Without the 0x00/0x01 prefixes, hashing these 64 bytes as a leaf would reproduce the root.
    const forgedLeaf = leafHash(Buffer.concat([left, right]));
    expect(forgedLeaf.equals(root)).toBe(false);
    expect(verifyInclusion(0, 1, forgedLeaf, [], root)).toBe(false);
    expect(verifyInclusion(0, 2, leafHash(Buffer.concat([l[0] as Buffer, l[1] as Buffer])), [right], root)).toBe(false);
  });

  it('reports every closed subtree while appending, matching the tree computed from scratch', () => {
    const all = Array.from({ length: 300 }, (_, i) => leafHash(Buffer.from(String(i))));
    const frontier = emptyFrontier();
    const nodes = new Map<string, Buffer>();
    all.forEach((leaf, i) => {
      appendLeaf(frontier, leaf, (level, index, hash) => nodes.set(`${level}:${index}`, hash));
      expect(frontierRoot(frontier).equals(rootOfLeaves(all.slice(0, i + 1)))).toBe(true);
    });
    expect(nodes.get('8:0')?.equals(rootOfLeaves(all.slice(0, 256)))).toBe(true);
    expect(nodes.get('2:74')?.equals(rootOfLeaves(all.slice(296, 300)))).toBe(true);
    expect(nodes.has('2:75')).toBe(false);
  });
});
