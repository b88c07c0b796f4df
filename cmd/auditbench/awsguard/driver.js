// Runs Pulumi's AWSGuard policy pack (@pulumi/awsguard, all 26 policies at their default levels) over the
// resources of a file written as `platformctl preview --json` writes it, one resource per line, as cmd/auditbench
// writes its copies of prod. The policies run through @pulumi/policy's own analyzer handlers, the functions its
// gRPC server calls (makeAnalyzeRpcFun for each resource, makeAnalyzeStackRpcFun for each stack), with the
// requests built as the Pulumi engine sends them (the resource's properties as a protobuf Struct); only the gRPC
// transport is left out. A stack is the resources whose URNs name the same stack and project, consecutive in the
// file; each is analyzed as soon as the next begins and then let go, as platformctl audit does.
//
//   node driver.js FILE   prints one line: resources, stacks, diagnostics
"use strict";

// The AWS SDK v2, which AWSGuard loads, warns on load that it is out of support; the warning is not the
// pack's output.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";

const fs = require("fs");
const readline = require("readline");

// The pack serves itself when it is made (PolicyPack's constructor calls server.serve); take its policies
// instead of serving them.
const server = require("@pulumi/policy/server");
let pack;
server.serve = (name, version, enforcementLevel, args) => {
    pack = { name, version, enforcementLevel, policies: args.policies || [] };
};
const { AwsGuard } = require("@pulumi/awsguard");
new AwsGuard();

const analyzerproto = require("@pulumi/pulumi/proto/analyzer_pb");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");

const analyze = server.makeAnalyzeRpcFun(pack.name, pack.version, pack.enforcementLevel, pack.policies);
const analyzeStack = server.makeAnalyzeStackRpcFun(pack.name, pack.version, pack.enforcementLevel, pack.policies);

function call(handler, request) {
    return new Promise((resolve, reject) => {
        handler({ request }, (err, response) => (err ? reject(err) : resolve(response)));
    });
}

function stackOf(urn) {
    const parts = urn.split("::");
    return parts.length > 2 ? parts[0] + "::" + parts[1] : "";
}

async function main() {
    const file = process.argv[2];
    if (!file) {
        console.error("usage: node driver.js FILE");
        process.exit(2);
    }
    let resources = 0, stacks = 0, diagnostics = 0;
    let current = [], currentStack = null;
    const flush = async () => {
        if (current.length === 0) {
            return;
        }
        const req = new analyzerproto.AnalyzeStackRequest();
        req.setResourcesList(current);
        const res = await call(analyzeStack, req);
        diagnostics += res.getDiagnosticsList().length;
        stacks++;
        current = [];
    };
    const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
    for await (let line of lines) {
        line = line.trim();
        if (line === "[" || line === "]" || line === "") {
            continue;
        }
        if (line.startsWith("[")) {
            line = line.slice(1);
        }
        if (line.endsWith("]")) {
            line = line.slice(0, -1);
        }
        if (line.endsWith(",")) {
            line = line.slice(0, -1);
        }
        const r = JSON.parse(line);
        const stack = stackOf(r.urn);
        if (stack !== currentStack) {
            await flush();
            currentStack = stack;
        }
        const props = Struct.fromJavaScript(r.inputs || {});
        const o = r.options || {};
        const opts = new analyzerproto.AnalyzerResourceOptions();
        opts.setProtect(!!o.protect);
        opts.setIgnorechangesList(o.ignoreChanges || []);
        opts.setDeletebeforereplace(!!o.deleteBeforeReplace);
        opts.setDeletebeforereplacedefined(true);
        opts.setParent(r.parent || "");
        // The engine sends the same fields to both handlers: AnalyzeRequest and AnalyzerResource share them.
        const describe = (msg) => {
            msg.setType(r.type);
            msg.setUrn(r.urn);
            msg.setName(r.name);
            msg.setProperties(props);
            msg.setOptions(opts);
            return msg;
        };
        const res = await call(analyze, describe(new analyzerproto.AnalyzeRequest()));
        diagnostics += res.getDiagnosticsList().length;
        const sr = describe(new analyzerproto.AnalyzerResource());
        sr.setParent(r.parent || "");
        sr.setDependenciesList(r.dependencies || []);
        current.push(sr);
        resources++;
    }
    await flush();
    console.log(`${resources} resources, ${stacks} stacks, ${diagnostics} diagnostics`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
