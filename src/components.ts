// The composition root: every component registers itself when its module is imported.
import './sources/demo_logs/index.js';
import './sources/stdin/index.js';
import './transforms/filter/index.js';
import './transforms/route/index.js';
import './transforms/remap/index.js';
import './sinks/blackhole/index.js';
import './sinks/console/index.js';
import './sinks/file/index.js';
import './sources/file/index.js';
import './sources/kubernetes_logs/index.js';
import './sinks/http/index.js';
import './sinks/elasticsearch/index.js';
import './sinks/loki/index.js';
import './sinks/aws_s3/index.js';
