// Package standin holds test stand-ins for the AWS APIs the platform's host scripts call, and for
// nothing else: S3 (an in-memory store over TLS, for pgBackRest), and Secrets Manager, the instance
// metadata service and CloudWatch's PutMetricData (for the AWS CLI in the converge scripts), with the
// internal CA that the stand-ins and the hosts under test share. Each answers only the calls those
// scripts make, as the real service answers them; it is test code only.
package standin
