import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
const app = new App({ outdir: '/tmp/cdkout-fail' });
const s = new Stack(app, 'S');
new sqs.Queue(s, 'Q');
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
try { app.synth(); console.log('synth ok; exitCode', process.exitCode); } catch (e) { console.log('threw', (e as Error).message.slice(0, 300)); }
