// The LCC extension: runs `lcc lsp` over stdio for `lcc` documents. Highlighting comes from
// the TextMate grammar and works without the server.

import * as vscode from 'vscode';
import {
    Executable,
    LanguageClient,
    LanguageClientOptions,
    RevealOutputChannelOn,
    ServerOptions,
    State,
    TransportKind,
} from 'vscode-languageclient/node';
import { resolveServerPath } from './serverPath';

const SERVER_PATH_SETTING = 'lcc.server.path';

let client: LanguageClient | undefined;
let clientDisposables: vscode.Disposable[] = [];
let output: vscode.OutputChannel;
let traceOutput: vscode.OutputChannel;
let status: vscode.LanguageStatusItem;
/** Starts, stops and restarts run one after the other, in the order they were asked for. */
let queue: Promise<void> = Promise.resolve();

function enqueue(task: () => Promise<void>): Promise<void> {
    queue = queue.then(task, task);
    return queue;
}

export function activate(context: vscode.ExtensionContext): void {
    output = vscode.window.createOutputChannel('LCC Language Server');
    traceOutput = vscode.window.createOutputChannel('LCC Language Server Trace');
    status = vscode.languages.createLanguageStatusItem('lcc.server', { language: 'lcc' });
    status.name = 'LCC Language Server';
    status.command = { title: 'Restart', command: 'lcc.restartServer' };

    context.subscriptions.push(
        output,
        traceOutput,
        status,
        vscode.commands.registerCommand('lcc.restartServer', () => enqueue(restart)),
        vscode.workspace.onDidChangeConfiguration((event) => {
            // `lcc.trace.server` is applied by the client itself, without a restart.
            if (event.affectsConfiguration('lcc.server')) {
                void enqueue(restart);
            }
        }),
    );
    void enqueue(start);
}

export function deactivate(): Promise<void> {
    return enqueue(stop);
}

async function restart(): Promise<void> {
    await stop();
    await start();
}

async function start(): Promise<void> {
    const config = vscode.workspace.getConfiguration('lcc');
    const setting = config.get<string>('server.path', 'lcc');
    const extraArgs = config.get<string[]>('server.extraArgs', []).filter((arg) => typeof arg === 'string');
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;

    const resolved = resolveServerPath(setting, { workspaceFolder: folder });
    if (!resolved.ok) {
        const message =
            `Cannot start the LCC language server: ${resolved.reason}. ` +
            `Install lcc (\`cargo install --path .\` in the lcc repository) or set "${SERVER_PATH_SETTING}" to the lcc binary.`;
        output.appendLine(message);
        showStatus(vscode.LanguageStatusSeverity.Error, 'lcc not found', resolved.reason);
        void offerSettings(message);
        return;
    }

    const args = ['lsp', ...extraArgs];
    const run: Executable = {
        command: resolved.path,
        args,
        transport: TransportKind.stdio,
        options: folder === undefined ? {} : { cwd: folder },
    };
    const serverOptions: ServerOptions = { run, debug: run };
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.{lcc,xlcc,im}');
    const clientOptions: LanguageClientOptions = {
        documentSelector: [
            { scheme: 'file', language: 'lcc' },
            { scheme: 'untitled', language: 'lcc' },
        ],
        synchronize: { fileEvents: watcher },
        outputChannel: output,
        traceOutputChannel: traceOutput,
        revealOutputChannelOn: RevealOutputChannelOn.Never,
    };

    // The id `lcc` makes the client read its trace level from `lcc.trace.server`.
    const newClient = new LanguageClient('lcc', 'LCC Language Server', serverOptions, clientOptions);
    clientDisposables = [
        watcher,
        newClient.onDidChangeState((event) => {
            if (event.newState === State.Stopped && client === newClient) {
                showStatus(vscode.LanguageStatusSeverity.Warning, 'lcc stopped', 'The language server is not running.');
            }
        }),
    ];
    client = newClient;
    const commandLine = [resolved.path, ...args].join(' ');
    output.appendLine(`Starting ${commandLine}`);
    showStatus(vscode.LanguageStatusSeverity.Information, 'lcc starting', commandLine);
    try {
        await newClient.start();
    } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const message =
            `The LCC language server \`${commandLine}\` failed to start: ${reason}. ` +
            `Check that "${SERVER_PATH_SETTING}" names an lcc binary that has the \`lsp\` subcommand.`;
        output.appendLine(message);
        showStatus(vscode.LanguageStatusSeverity.Error, 'lcc failed', reason);
        void offerSettings(message);
        return;
    }
    const info = newClient.initializeResult?.serverInfo;
    const detail = info === undefined ? commandLine : `${info.name}${info.version ? ' ' + info.version : ''} (${resolved.path})`;
    showStatus(vscode.LanguageStatusSeverity.Information, 'lcc', detail);
}

async function stop(): Promise<void> {
    const old = client;
    client = undefined;
    if (old !== undefined) {
        try {
            await old.dispose();
        } catch (error) {
            // A client whose start failed cannot be stopped; there is nothing left to stop.
            output.appendLine(`Stopping the language server: ${error instanceof Error ? error.message : String(error)}`);
        }
    }
    for (const disposable of clientDisposables) {
        disposable.dispose();
    }
    clientDisposables = [];
}

function showStatus(severity: vscode.LanguageStatusSeverity, text: string, detail: string): void {
    status.severity = severity;
    status.text = text;
    status.detail = detail;
}

async function offerSettings(message: string): Promise<void> {
    const openSettings = 'Open Settings';
    const showOutput = 'Show Output';
    const choice = await vscode.window.showErrorMessage(message, openSettings, showOutput);
    if (choice === openSettings) {
        await vscode.commands.executeCommand('workbench.action.openSettings', SERVER_PATH_SETTING);
    } else if (choice === showOutput) {
        output.show(true);
    }
}
