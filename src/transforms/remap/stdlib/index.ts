// The VRL standard library: each module registers its functions.
import './types.js';
import './strings.js';
import './collections.js';
import './time.js';
import './parse.js';
import './codec.js';
import './numbers.js';
import './system.js';
import './logs.js';
import './iteration.js';
import './extra.js';
import './more.js';
import './k8s-logs.js';
import './unnest.js';
import './aws.js';
import './network.js';
import './grok.js';
