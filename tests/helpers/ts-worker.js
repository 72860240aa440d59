/**
 * Worker-thread entry for pools whose task module is TypeScript (the sources under ts-jest): loads
 * the transpile-on-require hook, then the module named in the pool's workerData.tsEntry.
 */
'use strict';

// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./register-ts.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { workerData } = require('piscina');

// eslint-disable-next-line @typescript-eslint/no-require-imports
module.exports = require(workerData.tsEntry);
