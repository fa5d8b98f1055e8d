#!/usr/bin/env python3
"""What Redis served per feature key, from a `redis-cli monitor` log of guarded feature writes.

    redis_monitor_check.py MONITOR_LOG FEATURE [--reference ROWS.jsonl KEY_COLUMN VALUE_COLUMN END_COLUMN]

pipec writes a windowed feature through its guard script (runtime/sinks/redis_feature_sink.cpp). MONITOR (Redis 7)
shows each call as the client's EVALSHA line -- sha, 2, key, companion key, window end, TTL, remove flag, value --
followed by the commands the script ran, marked `[db lua]`: always a GET of the companion; then, only when the write
is accepted, a SET (or DEL) of the key and a SET of the companion to the window end. Scripts are atomic, so the lua
lines right after an EVALSHA are that call's. A write was *served* when its companion SET ran.

Checks, per feature key (printed as one JSON object on stdout; exit 1 when one fails):
  - went_back: an accepted write whose window end is below one already served for the key (what the guard prevents);
  - unguarded: a SET/DEL of a feature key that did not come from the guard script;
  - malformed: a lua SET/DEL that does not match its EVALSHA (another script, a parse error);
  - with --reference (offline rows with the window end column): wrong_values, accepted writes whose value is not the
    reference's for that (key, window), and unknown_windows, windows the reference does not have.
Counts: evalsha (writes sent), accepted, refused (the guard kept a later window), resent (an EVALSHA of a (key, window)
sent before: a row emitted again), resent_keys_windows (distinct (key, window) sent more than once).
"""
import datetime
import json
import re
import sys

LINE = re.compile(r'^(\d+(?:\.\d+)?) \[(\d+) ([^\]]+)\] (.*)$')
TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"')


def unescape(text):
    # redis-cli quotes arguments with \", \\, \n, \r, \t, \a, \b and \xNN; feature keys and numbers are plain ASCII.
    return re.sub(r'\\(x[0-9a-fA-F]{2}|.)',
                  lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == 'x' and len(m.group(1)) == 3
                  else {'n': '\n', 'r': '\r', 't': '\t', 'a': '\a', 'b': '\b'}.get(m.group(1), m.group(1)), text)


def epoch_ms(value):
    if isinstance(value, (int, float)):
        return int(value)
    t = datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
    return int(t.timestamp() * 1000 + 0.5) if t.tzinfo else int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def check(lines, feature, reference=None):
    prefix = feature + ':'
    served = {}          # key -> (max window end served, its value, monitor time)
    sent = {}            # (key, end) -> times sent
    result = {'evalsha': 0, 'accepted': 0, 'refused': 0, 'resent': 0, 'resent_keys_windows': 0, 'went_back': 0,
              'max_went_back_ms': 0, 'unguarded': 0, 'malformed': 0, 'wrong_values': 0, 'unknown_windows': 0,
              'keys': 0, 'examples': []}
    current = None       # the EVALSHA whose script lines are being read

    def example(text):
        if len(result['examples']) < 10:
            result['examples'].append(text)

    def close():
        nonlocal current
        if current is not None:
            if current['accepted']:
                result['accepted'] += 1
            else:
                result['refused'] += 1
        current = None

    for number, raw in enumerate(lines, 1):
        match = LINE.match(raw.rstrip('\n'))
        if not match:
            continue
        when, client, rest = float(match.group(1)), match.group(3), match.group(4)
        args = [unescape(t) for t in TOKEN.findall(rest)]
        if not args:
            continue
        command = args[0].upper()
        if client != 'lua':
            close()
            if command == 'EVALSHA' and len(args) >= 9 and args[2] == '2' and args[3].startswith(prefix):
                key, companion, end, remove, value = args[3], args[4], int(args[5]), args[7] == '1', args[8]
                if companion != 'pipec-window-end{' + key + '}':
                    result['malformed'] += 1
                    example(f'line {number}: companion {companion!r} of {key!r}')
                result['evalsha'] += 1
                count = sent.get((key, end), 0)
                if count == 1:
                    result['resent_keys_windows'] += 1
                if count >= 1:
                    result['resent'] += 1
                sent[(key, end)] = count + 1
                current = {'key': key, 'companion': companion, 'end': end, 'remove': remove, 'value': value,
                           'wrote_key': False, 'accepted': False}
            elif command in ('SET', 'DEL', 'SETEX', 'PSETEX', 'GETSET', 'GETDEL', 'UNLINK', 'APPEND', 'INCR', 'INCRBY',
                             'DECR', 'DECRBY', 'INCRBYFLOAT', 'MSET', 'RENAME') and \
                    any(a.startswith(prefix) for a in args[1:]):
                result['unguarded'] += 1
                example(f'line {number}: unguarded {" ".join(args[:3])}')
            continue
        # A command run by a script.
        if command == 'GET':
            continue
        if current is None:
            if command in ('SET', 'DEL') and len(args) > 1 and args[1].startswith(prefix):
                result['malformed'] += 1
                example(f'line {number}: script write {" ".join(args[:3])} outside a guarded call')
            continue
        if command == 'SET' and len(args) >= 3 and args[1] == current['key']:
            if current['remove'] or args[2] != current['value']:
                result['malformed'] += 1
                example(f'line {number}: SET {args[1]} {args[2]!r} does not match its EVALSHA')
            current['wrote_key'] = True
        elif command == 'DEL' and len(args) >= 2 and args[1] == current['key']:
            if not current['remove']:
                result['malformed'] += 1
                example(f'line {number}: DEL {args[1]} does not match its EVALSHA')
            current['wrote_key'] = True
        elif command == 'SET' and len(args) >= 3 and args[1] == current['companion']:
            if int(args[2]) != current['end'] or not current['wrote_key']:
                result['malformed'] += 1
                example(f'line {number}: companion SET {args[2]} does not match its EVALSHA')
            current['accepted'] = True
            key, end = current['key'], current['end']
            value = None if current['remove'] else current['value']
            before = served.get(key)
            if before is not None and end < before[0]:
                result['went_back'] += 1
                result['max_went_back_ms'] = max(result['max_went_back_ms'], before[0] - end)
                example(f'line {number}: {key} served window end {end} after {before[0]} '
                        f'({before[0] - end} ms older, {when - before[2]:.3f} s after)')
            if before is None or end >= before[0]:
                served[key] = (end, value, when)
            if reference is not None:
                expected = reference.get((key[len(prefix):], end), KeyError)
                if expected is KeyError:
                    result['unknown_windows'] += 1
                    example(f'line {number}: {key} window end {end} is not in the reference')
                elif expected != value:
                    result['wrong_values'] += 1
                    example(f'line {number}: {key} window end {end} served {value!r}, reference {expected!r}')
        else:
            result['malformed'] += 1
            example(f'line {number}: unexpected script command {" ".join(args[:3])}')
    close()
    result['keys'] = len(served)
    result['ok'] = all(result[name] == 0 for name in
                       ('went_back', 'unguarded', 'malformed', 'wrong_values', 'unknown_windows')) and result['accepted'] > 0
    return result


def load_reference(path, key_column, value_column, end_column):
    reference = {}
    for line in open(path):
        row = json.loads(line)
        value = row[value_column]
        reference[(str(row[key_column]), epoch_ms(row[end_column]))] = None if value is None else (
            ('true' if value else 'false') if isinstance(value, bool) else str(value))
    return reference


def main(argv):
    if len(argv) not in (3, 8) or (len(argv) == 8 and argv[3] != '--reference'):
        sys.exit(__doc__)
    reference = load_reference(*argv[4:8]) if len(argv) == 8 else None
    with open(argv[1], errors='replace') as log:
        result = check(log, argv[2], reference)
    print(json.dumps(result))
    return 0 if result['ok'] else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
