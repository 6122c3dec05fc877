// Unit tests of the `lcc.server.path` lookup, run by `npm run test:unit` under plain Node.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'node:test';
import { resolveServerPath } from '../serverPath';

function tempDir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), 'lcc-server-path-'));
}

function writeFile(file: string, mode: number): string {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '#!/bin/sh\n');
    fs.chmodSync(file, mode);
    return file;
}

const posix = process.platform !== 'win32';

test('a bare name is found in the first PATH directory that has it as an executable', { skip: !posix }, () => {
    const root = tempDir();
    const notExecutable = writeFile(path.join(root, 'a', 'lcc'), 0o644);
    const wanted = writeFile(path.join(root, 'b', 'lcc'), 0o755);
    writeFile(path.join(root, 'c', 'lcc'), 0o755);
    const env = { PATH: [path.dirname(notExecutable), path.join(root, 'empty'), path.dirname(wanted), path.join(root, 'c')].join(':') };
    assert.deepStrictEqual(resolveServerPath('lcc', { env }), { ok: true, path: wanted });
});

test('a bare name missing from PATH says so', () => {
    const result = resolveServerPath('lcc', { env: { PATH: tempDir() } });
    assert.deepStrictEqual(result, { ok: false, reason: '"lcc" was not found on PATH' });
});

test('an empty setting is an error, not a PATH search', () => {
    assert.deepStrictEqual(resolveServerPath('  ', { env: { PATH: '/usr/bin' } }), { ok: false, reason: 'the setting is empty' });
});

test('an absolute path is used when it is an executable file', { skip: !posix }, () => {
    const root = tempDir();
    const binary = writeFile(path.join(root, 'bin', 'lcc'), 0o755);
    assert.deepStrictEqual(resolveServerPath(binary, { env: {} }), { ok: true, path: binary });
    assert.strictEqual(resolveServerPath(` ${binary} `, { env: {} }).ok, true, 'surrounding spaces are ignored');
});

test('a path to a directory or a file that is not executable is refused', { skip: !posix }, () => {
    const root = tempDir();
    const plain = writeFile(path.join(root, 'lcc'), 0o644);
    assert.deepStrictEqual(resolveServerPath(plain, { env: {} }), {
        ok: false,
        reason: `"${plain}" does not exist or is not an executable file`,
    });
    assert.strictEqual(resolveServerPath(root, { env: {} }).ok, false);
});

test('a relative path and ${workspaceFolder} are taken from the workspace folder', { skip: !posix }, () => {
    const root = tempDir();
    const binary = writeFile(path.join(root, 'target', 'debug', 'lcc'), 0o755);
    assert.deepStrictEqual(resolveServerPath('target/debug/lcc', { workspaceFolder: root, env: {} }), { ok: true, path: binary });
    assert.deepStrictEqual(resolveServerPath('./target/debug/lcc', { workspaceFolder: root, env: {} }), { ok: true, path: binary });
    assert.deepStrictEqual(resolveServerPath('${workspaceFolder}/target/debug/lcc', { workspaceFolder: root, env: {} }), {
        ok: true,
        path: binary,
    });
});

test('a relative path without an open folder is an error that says why', () => {
    assert.deepStrictEqual(resolveServerPath('target/debug/lcc', { env: {} }), {
        ok: false,
        reason: '"target/debug/lcc" is a relative path and no folder is open',
    });
    assert.deepStrictEqual(resolveServerPath('${workspaceFolder}/lcc', { env: {} }), {
        ok: false,
        reason: '"${workspaceFolder}/lcc" uses ${workspaceFolder} but no folder is open',
    });
});

test('~ is the home directory', { skip: !posix }, () => {
    const home = tempDir();
    const binary = writeFile(path.join(home, '.cargo', 'bin', 'lcc'), 0o755);
    assert.deepStrictEqual(resolveServerPath('~/.cargo/bin/lcc', { homedir: home, env: {} }), { ok: true, path: binary });
});

test('on Windows a bare name is found with an extension of PATHEXT, in a PATH written Path', { skip: posix }, () => {
    const root = tempDir();
    const binary = path.join(root, 'lcc.exe');
    fs.writeFileSync(binary, '');
    const env = { Path: `${path.join(root, 'none')};${root}`, PATHEXT: '.COM;.EXE' };
    const result = resolveServerPath('lcc', { env, platform: 'win32' });
    assert.strictEqual(result.ok, true);
    assert.strictEqual(result.ok && path.normalize(result.path), path.normalize(binary));
});
