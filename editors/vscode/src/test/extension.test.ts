// Unit tests of extension.ts with a stand-in for the `vscode` module (VS Code itself cannot run
// here): the command, the error when the binary is missing, and restarts on settings changes.
// Starting a real server is covered by the Neovim test of `lcc lsp` (tests/nvim.rs).

import * as assert from 'assert';
import { test } from 'node:test';

const Module = require('module') as { _load: (request: string, ...rest: unknown[]) => unknown };

type Listener = (event: { affectsConfiguration: (section: string) => boolean }) => void;

interface Fake {
    settings: Record<string, unknown>;
    commands: Map<string, () => Promise<void>>;
    errors: { message: string; items: string[] }[];
    output: string[];
    status: { severity?: number; text?: string; detail?: string };
    configurationListeners: Listener[];
}

const fake: Fake = {
    settings: {},
    commands: new Map(),
    errors: [],
    output: [],
    status: {},
    configurationListeners: [],
};

const disposable = { dispose(): void {} };
// Anything the language client reads at load time that the tests do not care about.
const anything: unknown = new Proxy(class {}, { get: (target, key) => (key in target ? (target as never)[key] : anything) });
const vscode = {
    window: {
        createOutputChannel: () => ({ appendLine: (line: string) => fake.output.push(line), show() {}, dispose() {} }),
        showErrorMessage: async (message: string, ...items: string[]) => {
            fake.errors.push({ message, items });
            return undefined;
        },
    },
    languages: { createLanguageStatusItem: () => Object.assign(fake.status, { dispose() {} }) },
    LanguageStatusSeverity: { Information: 0, Warning: 1, Error: 2 },
    commands: {
        registerCommand: (name: string, run: () => Promise<void>) => {
            fake.commands.set(name, run);
            return disposable;
        },
        executeCommand: async () => undefined,
    },
    workspace: {
        getConfiguration: (section: string) => ({
            get: (key: string, fallback: unknown) => fake.settings[`${section}.${key}`] ?? fallback,
        }),
        onDidChangeConfiguration: (listener: Listener) => {
            fake.configurationListeners.push(listener);
            return disposable;
        },
        workspaceFolders: undefined,
        createFileSystemWatcher: () => disposable,
    },
};
const standIn = new Proxy(vscode, { get: (target, key) => (key in target ? (target as never)[key] : anything) });
const load = Module._load;
Module._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? standIn : load.call(this, request, ...rest);
};

const extension = require('../extension') as typeof import('../extension');

/** Lets the extension's queue of starts and stops run. */
function settle(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 50));
}

function changeSettings(...sections: string[]): void {
    for (const listener of fake.configurationListeners) {
        listener({ affectsConfiguration: (section) => sections.some((s) => s === section || s.startsWith(section + '.')) });
    }
}

test('a missing binary is an error that names the lcc.server.path setting', async () => {
    fake.settings['lcc.server.path'] = '/nonexistent/lcc';
    extension.activate({ subscriptions: [] } as never);
    await settle();

    assert.ok(fake.commands.has('lcc.restartServer'), 'the restart command is registered');
    assert.strictEqual(fake.errors.length, 1);
    const [error] = fake.errors;
    assert.match(error.message, /"\/nonexistent\/lcc" does not exist or is not an executable file/);
    assert.match(error.message, /set "lcc\.server\.path" to the lcc binary/);
    assert.deepStrictEqual(error.items, ['Open Settings', 'Show Output']);
    assert.strictEqual(fake.status.severity, 2, 'the language status item shows an error');
    assert.strictEqual(fake.status.text, 'lcc not found');
    assert.ok(fake.output.some((line) => line.includes('/nonexistent/lcc')), 'the output channel has the reason');
});

test('the restart command and a change of lcc.server.* start again; lcc.trace.server does not', async () => {
    fake.errors = [];
    fake.settings['lcc.server.path'] = 'no-such-lcc-binary-on-path';
    await fake.commands.get('lcc.restartServer')?.();
    assert.strictEqual(fake.errors.length, 1);
    assert.match(fake.errors[0].message, /"no-such-lcc-binary-on-path" was not found on PATH/);

    changeSettings('lcc.trace.server');
    await settle();
    assert.strictEqual(fake.errors.length, 1, 'tracing is applied without a restart');

    fake.settings['lcc.server.path'] = 'target/debug/lcc';
    changeSettings('lcc.server.path');
    await settle();
    assert.strictEqual(fake.errors.length, 2);
    assert.match(fake.errors[1].message, /"target\/debug\/lcc" is a relative path and no folder is open/);

    await extension.deactivate();
});
