// Finding the `lcc` binary from the `lcc.server.path` setting. No `vscode` import here, so that
// the unit tests (test/serverPath.test.ts) run under plain Node.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface ResolveOptions {
    /** The first workspace folder on disk, for relative paths and `${workspaceFolder}`. */
    workspaceFolder?: string;
    /** The environment whose `PATH` (and `PATHEXT` on Windows) is searched. */
    env?: NodeJS.ProcessEnv;
    /** The platform whose rules apply (separators, `PATHEXT`, the executable bit). */
    platform?: NodeJS.Platform;
    /** The home directory that `~` stands for. */
    homedir?: string;
}

export type Resolution =
    | { ok: true; path: string }
    | { ok: false; reason: string };

/**
 * Where the binary named by `setting` is. A bare name (`lcc`) is searched on `PATH`; anything
 * with a directory separator is a path, with `~` and `${workspaceFolder}` expanded and a
 * relative path taken from the workspace folder. The reason of a failure is a sentence meant
 * for the user.
 */
export function resolveServerPath(setting: string, options: ResolveOptions = {}): Resolution {
    const platform = options.platform ?? process.platform;
    const env = options.env ?? process.env;
    const paths = platform === 'win32' ? path.win32 : path.posix;
    const command = setting.trim();
    if (command === '') {
        return { ok: false, reason: 'the setting is empty' };
    }

    const hasSeparator = command.includes('/') || (platform === 'win32' && command.includes('\\'));
    if (!hasSeparator && !command.startsWith('~') && !command.includes('${')) {
        const found = searchPath(command, env, platform);
        if (found === undefined) {
            return { ok: false, reason: `"${command}" was not found on PATH` };
        }
        return { ok: true, path: found };
    }

    let expanded = command;
    if (expanded.includes('${workspaceFolder}')) {
        if (options.workspaceFolder === undefined) {
            return { ok: false, reason: `"${command}" uses \${workspaceFolder} but no folder is open` };
        }
        expanded = expanded.split('${workspaceFolder}').join(options.workspaceFolder);
    }
    if (expanded === '~' || expanded.startsWith('~/') || (platform === 'win32' && expanded.startsWith('~\\'))) {
        expanded = paths.join(options.homedir ?? os.homedir(), expanded.slice(1));
    }
    if (!paths.isAbsolute(expanded)) {
        if (options.workspaceFolder === undefined) {
            return { ok: false, reason: `"${command}" is a relative path and no folder is open` };
        }
        expanded = paths.join(options.workspaceFolder, expanded);
    }
    const candidates = platform === 'win32' ? withExtensions(expanded, env) : [expanded];
    const found = candidates.find((candidate) => isExecutable(candidate, platform));
    if (found === undefined) {
        return { ok: false, reason: `"${expanded}" does not exist or is not an executable file` };
    }
    return { ok: true, path: found };
}

/** The first executable called `name` in a directory of `PATH`. */
export function searchPath(name: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | undefined {
    const paths = platform === 'win32' ? path.win32 : path.posix;
    const delimiter = platform === 'win32' ? ';' : ':';
    // Windows spells the variable `Path`; Node keeps the case it was given.
    const key = Object.keys(env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
    const dirs = (env[key] ?? '').split(delimiter).filter((dir) => dir !== '');
    for (const dir of dirs) {
        const base = paths.join(dir.replace(/^"(.*)"$/, '$1'), name);
        for (const candidate of platform === 'win32' ? withExtensions(base, env) : [base]) {
            if (isExecutable(candidate, platform)) {
                return candidate;
            }
        }
    }
    return undefined;
}

/** `file` with each extension of `PATHEXT`, then `file` itself (Windows). */
function withExtensions(file: string, env: NodeJS.ProcessEnv): string[] {
    const key = Object.keys(env).find((k) => k.toUpperCase() === 'PATHEXT') ?? 'PATHEXT';
    const extensions = (env[key] ?? '.COM;.EXE;.BAT;.CMD').split(';').filter((ext) => ext !== '');
    return [...extensions.map((ext) => file + ext.toLowerCase()), file];
}

function isExecutable(file: string, platform: NodeJS.Platform): boolean {
    try {
        if (!fs.statSync(file).isFile()) {
            return false;
        }
        if (platform !== 'win32') {
            fs.accessSync(file, fs.constants.X_OK);
        }
        return true;
    } catch {
        return false;
    }
}
