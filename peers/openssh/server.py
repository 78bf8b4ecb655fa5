#!/usr/bin/env python3
"""OpenSSH's sshd as a private SFTP server: the stand-in for an insurance carrier's drop box.

Plain python3 (standard library only; no virtualenv). Must run as root on Debian or Ubuntu: sshd
chroots the SFTP user and reads /etc/shadow. Usage: `python3 peers/openssh/server.py`.

On start it
  * installs Debian's `openssh-server` when /usr/sbin/sshd is missing, under an exclusive lock on
    peers/openssh/.install.lock: with a temporary /usr/sbin/policy-rc.d (exit 101) so that apt does
    not start the system service, `apt-get update` only when the install fails for lack of package
    lists, and /etc/ssh/sshd_not_to_be_run created so that the system `ssh` service never starts
    (not now, not at the next boot; delete it to run a real sshd). Any sshd that the install left
    listening on port 22 is stopped;
  * makes sure the system user `integrations-sftp` exists (no home, no login shell) and has the
    password kept in /var/lib/integrations-sftp/password (root-only). The user is shared by every
    server on the machine, so the password is made once and reused: servers started at the same
    time all announce the same, valid password;
  * creates /var/lib/integrations-sftp/srv-XXXX (removed when the server stops) holding its own
    host key, client key pairs, authorized_keys, sshd_config, pid file, sshd.log and the chroot
    `root/` with `upload/` and `outbound/` (both writable by the SFTP user);
  * runs `/usr/sbin/sshd -D -e -f sshd_config` on 127.0.0.1 and a free port, waits until it
    listens, and prints one JSON line on stdout:

      {"url": "sftp://127.0.0.1:PORT", "host": "127.0.0.1", "port": PORT,
       "user": "integrations-sftp", "password": "...",
       "private_key": "/…/client_ed25519",        (OpenSSH format, no passphrase; made per server)
       "private_key_rsa": "/…/client_rsa",        (RSA 2048, OpenSSH format, no passphrase; a copy
                                                   of /var/lib/integrations-sftp/client_rsa, made
                                                   once: RSA key generation takes up to 0.5 s)
       "host_key_public": "ssh-ed25519 AAAA…",    (the server's host key)
       "known_hosts": "/…/known_hosts",           ("[127.0.0.1]:PORT ssh-ed25519 AAAA…")
       "root": "/var/lib/integrations-sftp/srv-XXXX/root",
       "upload": "upload", "outbound": "outbound", "log": "/…/sshd.log"}

    SFTP sessions start in the chroot's `/`, so `upload` and `outbound` are the paths to use over
    SFTP; on disk they are `root + "/upload"` and `root + "/outbound"`. The test plays the carrier
    by writing acknowledgements into `root/outbound/` directly (as root, files readable by all);
    the client reads (and may delete) them over SFTP. Files the client uploads belong to
    `integrations-sftp`.

It stops when its stdin closes (or on SIGTERM, SIGINT, SIGHUP): it kills its sshd with every
session sshd forked, and removes its folder. A watchdog process (its own session, so it outlives a
SIGKILL of this one) does the same when this process dies any other way — the test harness drops
stdin and kills at once. Folders left by servers that vanished entirely (a crash of the machine)
are removed by the next start. On failure it prints {"error": "..."} instead and exits with 2 when
sshd is unavailable (not root, no apt, apt failed) or 1 when it could not start.

Notes:
  * sshd refuses a ChrootDirectory whose path has a component that is not owned by root or is
    writable by group or others, so the chroot cannot live under /tmp (mode 1777); hence
    /var/lib/integrations-sftp (root, 0755).
  * sshd opens authorized_keys as the user, so the server folder is 0711 (traversable, not
    listable) and authorized_keys is root-owned 0644; StrictModes stays on.
  * OpenSSH >= 8.8 refuses RSA signatures made with SHA-1 (`ssh-rsa`): an RSA client must sign
    with rsa-sha2-256 or rsa-sha2-512.
  * On OpenSSH >= 9.8 `PerSourcePenalties no` is set, so that tests of failing logins do not get
    127.0.0.1 refused.
"""

import contextlib
import fcntl
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LOCK_FILE = os.path.join(HERE, ".install.lock")
SSHD = "/usr/sbin/sshd"
POLICY_RC_D = "/usr/sbin/policy-rc.d"
NOT_TO_BE_RUN = "/etc/ssh/sshd_not_to_be_run"
USER = "integrations-sftp"
BASE = "/var/lib/integrations-sftp"
PASSWORD_FILE = os.path.join(BASE, "password")
RSA_KEY = os.path.join(BASE, "client_rsa")  # made once: RSA key generation takes 0.2 to 0.5 s
HOST = "127.0.0.1"
START_TIMEOUT = 20.0  # seconds for sshd to listen (it takes about 0.05 s)
PORT_ATTEMPTS = 5


class Unavailable(Exception):
    """sshd cannot be had here (exit 2)."""


class Failed(Exception):
    """sshd is there but could not be started (exit 1)."""


class Terminated(BaseException):
    """A signal asked us to stop."""


def log(message):
    print(f"openssh peer: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def locked():
    """Holds an exclusive lock on peers/openssh/.install.lock."""
    with open(LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run(args, what, error=Failed, **kwargs):
    """Runs args with output captured; the completed process, or `error` with its output."""
    try:
        if "input" not in kwargs:
            kwargs["stdin"] = subprocess.DEVNULL
        done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    except OSError as e:
        raise error(f"{what}: {args[0]} could not start: {e}") from None
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise error(f"{what} failed (exit {done.returncode}): {' | '.join(output)}")
    return done


# ---------------------------------------------------------------------------------------------
# Processes and sockets, from /proc.


def proc_stat(pid):
    """(state, ppid, starttime) of pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1]), fields[19]


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def proc_comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def all_pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def descendants(pid):
    children = {}
    for p in all_pids():
        stat = proc_stat(p)
        if stat:
            children.setdefault(stat[1], []).append(p)
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def signal_all(pids, signum):
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def kill_sshd(pid, folder):
    """Kills the sshd listening with pid (if it is still ours: its command line names our folder)
    and every process it forked (sessions and their children; they outlive the listener)."""
    stat = proc_stat(pid)
    if stat is None or stat[0] == "Z" or folder not in proc_cmdline(pid):
        return
    # Freeze the tree first so that nobody forks while we collect it, then kill it whole.
    signal_all([pid], signal.SIGSTOP)
    tree = [pid] + descendants(pid)
    signal_all(tree, signal.SIGSTOP)
    tree = [pid] + descendants(pid)
    signal_all(tree, signal.SIGKILL)


def listeners(port):
    """{pid: comm} of the processes with a TCP socket listening on port (any address)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    found = {}
    if not inodes:
        return found
    for pid in all_pids():
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                found[pid] = proc_comm(pid)
                break
    if not found:
        found[0] = "?"  # listening, but we cannot see by whom
    return found


# ---------------------------------------------------------------------------------------------
# Installing sshd.


def apt_install():
    """(succeeded, output) of apt-get install openssh-server; its output is copied to stderr."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    args = [
        "apt-get", "install", "-y", "--no-install-recommends",
        "-o", "DPkg::Lock::Timeout=300",
        "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
        "openssh-server",
    ]  # fmt: skip
    try:
        done = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env)
    except OSError as e:
        raise Unavailable(f"apt-get could not start: {e}") from None
    sys.stderr.write(done.stdout + done.stderr)
    return done.returncode == 0, done.stdout + done.stderr


def stop_system_sshd(before):
    """Stops any sshd that the install started (not in `before`) and is listening on port 22."""
    pids = set()
    try:
        with open("/run/sshd.pid") as f:
            pids.add(int(f.read().strip()))
    except (OSError, ValueError):
        pass
    pids |= set(listeners(22))
    pids = {p for p in pids if p and p not in before and proc_comm(p) == "sshd"}
    if pids:
        log(f"stopping the system sshd that the install started: {sorted(pids)}")
        signal_all(pids, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(proc_stat(p) for p in pids):
            time.sleep(0.05)
        signal_all([p for p in pids if proc_stat(p)], signal.SIGKILL)
    left = {p: c for p, c in listeners(22).items() if p not in before}
    if left:
        log(f"warning: still listening on port 22 after the install: {left}")


def install_sshd():
    if os.path.exists(SSHD):
        return
    with locked():
        if os.path.exists(SSHD):
            return  # installed by whoever held the lock before us
        if shutil.which("apt-get") is None:
            raise Unavailable(f"{SSHD} is missing and there is no apt-get to install openssh-server")
        log("installing openssh-server (apt-get); the system ssh service will not be started")
        before = set(listeners(22))
        created_policy = False
        if not os.path.lexists(POLICY_RC_D):
            with open(POLICY_RC_D, "w") as f:
                f.write("#!/bin/sh\n# Written by peers/openssh/server.py while it installs openssh-server.\nexit 101\n")
            os.chmod(POLICY_RC_D, 0o755)
            created_policy = True
        try:
            os.makedirs(os.path.dirname(NOT_TO_BE_RUN), mode=0o755, exist_ok=True)
            if not os.path.exists(NOT_TO_BE_RUN):
                with open(NOT_TO_BE_RUN, "w") as f:
                    f.write("Created by peers/openssh/server.py (test SFTP servers): keeps the system ssh service off.\n")
            ok, output = apt_install()
            lacking_lists = (
                "Unable to locate package",
                "has no installation candidate",
                "Failed to fetch",
                "Unable to fetch some archives",
            )
            if not ok and any(s in output for s in lacking_lists):
                log("apt-get update (the package lists are missing or stale)")
                done = subprocess.run(["apt-get", "update"], stdin=subprocess.DEVNULL, stdout=sys.stderr)
                if done.returncode == 0:
                    ok, output = apt_install()
            if not ok:
                last = " | ".join(output.strip().splitlines()[-3:])
                raise Unavailable(f"apt-get install openssh-server failed: {last}")
        finally:
            if created_policy:
                os.unlink(POLICY_RC_D)
            stop_system_sshd(before)
        if not os.path.exists(SSHD):
            raise Unavailable(f"openssh-server is installed but {SSHD} is missing")


# ---------------------------------------------------------------------------------------------
# The shared user and its password, and the base folder.


def check_root_only_path(path):
    """sshd's rule for ChrootDirectory: every component owned by root, not group/other-writable."""
    current = "/"
    for part in [""] + path.strip("/").split("/"):
        current = os.path.join(current, part)
        st = os.stat(current)
        if st.st_uid != 0 or st.st_mode & 0o022:
            raise Failed(
                f"{current} must be owned by root and not writable by group or others "
                f"(sshd's rule for a chroot; it is uid {st.st_uid}, mode {oct(st.st_mode & 0o7777)})"
            )


def shadow_hash(user):
    with open("/etc/shadow") as f:
        for line in f:
            fields = line.split(":")
            if fields[0] == user:
                return fields[1]
    return None


def ensure_user():
    """The password of the shared SFTP user, creating the user and the password if need be (and
    the RSA client key that every server copies)."""
    with locked():
        os.makedirs(BASE, mode=0o755, exist_ok=True)
        st = os.stat(BASE)
        if st.st_uid != 0 or st.st_gid != 0 or st.st_mode & 0o022:
            os.chown(BASE, 0, 0)
            os.chmod(BASE, 0o755)
        check_root_only_path(BASE)
        try:
            pwd.getpwnam(USER)
        except KeyError:
            shell = "/usr/sbin/nologin" if os.path.exists("/usr/sbin/nologin") else "/bin/false"
            run(
                ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/",
                 "--shell", shell, "--comment", "SFTP test peer (peers/openssh)", USER],
                f"useradd {USER}",
            )  # fmt: skip
        try:
            with open(PASSWORD_FILE) as f:
                saved = json.load(f)
            password, hashed = saved["password"], saved["shadow"]
        except (OSError, ValueError, KeyError, TypeError):
            password, hashed = secrets.token_urlsafe(18), None
        if hashed is None or shadow_hash(USER) != hashed:
            # Set it (again): new, or the user was recreated or its password changed meanwhile.
            run(["chpasswd"], f"chpasswd for {USER}", input=f"{USER}:{password}\n")
            fd = os.open(PASSWORD_FILE + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump({"password": password, "shadow": shadow_hash(USER)}, f)
            os.chmod(PASSWORD_FILE + ".new", 0o600)
            os.replace(PASSWORD_FILE + ".new", PASSWORD_FILE)
        if not (os.path.exists(RSA_KEY) and os.path.exists(RSA_KEY + ".pub")):
            for stale in (RSA_KEY + ".new", RSA_KEY + ".new.pub"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(stale)
            _, err = keygen(RSA_KEY + ".new", "rsa", "-b", "2048").communicate()
            if err:
                raise Failed(f"ssh-keygen -t rsa failed: {err.decode(errors='replace').strip()}")
            os.replace(RSA_KEY + ".new.pub", RSA_KEY + ".pub")
            os.replace(RSA_KEY + ".new", RSA_KEY)
        return password


# ---------------------------------------------------------------------------------------------
# The server's folder, its watchdog, and folders left behind.


def identity(pid):
    stat = proc_stat(pid)
    return f"{pid} {stat[2]}" if stat else ""


def remove_folder(folder):
    """Kills the sshd of folder (by its pid file) and removes the folder."""
    try:
        with open(os.path.join(folder, "sshd.pid")) as f:
            kill_sshd(int(f.read().strip()), folder)
    except (OSError, ValueError):
        pass
    shutil.rmtree(folder, ignore_errors=True)


def remove_abandoned():
    """Removes the folders of servers whose process is gone and whose watchdog did not clean up."""
    try:
        names = os.listdir(BASE)
    except OSError:
        return
    for name in names:
        folder = os.path.join(BASE, name)
        if not name.startswith("srv-") or not os.path.isdir(folder):
            continue
        try:
            with open(os.path.join(folder, "owner")) as f:
                owner = f.read().strip()
        except OSError:
            owner = None
        if not owner:
            # No owner yet, or one being written: a server setting up now, unless long left.
            try:
                young = time.time() - os.stat(folder).st_mtime < 600
            except OSError:
                continue
            if young:
                continue  # being set up right now
        elif owner.split() and owner == identity(int(owner.split()[0])):
            continue  # its server is alive
        remove_folder(folder)


def start_watchdog(folder):
    """Forks a process (in its own session) that, once the returned pipe closes — when we exit,
    however we exit — kills the sshd whose pids we wrote to the pipe and removes folder."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(read_end)
        return pid, write_end
    try:  # the watchdog
        os.setsid()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_IGN)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)  # hold none of the harness's pipes
        for fd in [int(fd) for fd in os.listdir("/proc/self/fd")]:
            if fd > 2 and fd != read_end:
                with contextlib.suppress(OSError):
                    os.close(fd)
        received = b""
        while True:
            chunk = os.read(read_end, 4096)
            if not chunk:
                break
            received += chunk
        for line in received.split():
            with contextlib.suppress(ValueError):
                kill_sshd(int(line), folder)
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        os._exit(0)


# ---------------------------------------------------------------------------------------------
# sshd.


def sshd_version():
    """(major, minor) of /usr/sbin/sshd, or (0, 0) when it does not say."""
    try:
        done = subprocess.run([SSHD, "-V"], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    except OSError:
        return (0, 0)
    found = re.search(r"OpenSSH_(\d+)\.(\d+)", done.stderr + done.stdout)
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def sshd_config(folder, port, version):
    lines = [
        f"ListenAddress {HOST}",
        f"Port {port}",
        f"HostKey {folder}/ssh_host_ed25519_key",
        f"PidFile {folder}/sshd.pid",
        f"AuthorizedKeysFile {folder}/authorized_keys",
        "AuthorizedPrincipalsFile none",
        f"AllowUsers {USER}",
        "PermitRootLogin no",
        "UsePAM no",
        "PasswordAuthentication yes",
        "PermitEmptyPasswords no",
        "PubkeyAuthentication yes",
        "KbdInteractiveAuthentication no",
        "HostbasedAuthentication no",
        "StrictModes yes",
        "UseDNS no",
        "PrintMotd no",
        "PrintLastLog no",
        "PermitUserEnvironment no",
        "PermitUserRC no",
        "AllowAgentForwarding no",
        "AllowTcpForwarding no",
        "AllowStreamLocalForwarding no",
        "X11Forwarding no",
        "PermitTunnel no",
        "PermitTTY no",
        "MaxStartups 100",
        "MaxSessions 20",
        "LoginGraceTime 60",
        "LogLevel VERBOSE",
    ]
    if version >= (9, 8):
        lines.append("PerSourcePenalties no")
    lines += [
        "Subsystem sftp internal-sftp",
        f"Match User {USER}",
        # -d /: sessions start at the chroot's root, whatever the user's home directory says.
        "    ForceCommand internal-sftp -d /",
        f"    ChrootDirectory {folder}/root",
        "    AllowTcpForwarding no",
        "    AllowAgentForwarding no",
        "    X11Forwarding no",
        "    PermitTTY no",
        "",
    ]
    return "\n".join(lines)


def wait_listening(proc, log_path, port, deadline):
    """True once our sshd says it listens and the port answers with an SSH banner; False when
    sshd exits because it cannot bind the port; Failed otherwise."""
    said_so = False
    while time.monotonic() < deadline:
        exited = proc.poll() is not None
        try:
            with open(log_path, errors="replace") as f:
                text = f.read()
        except OSError:
            text = ""
        if exited:
            if "Cannot bind any address" in text or "Address already in use" in text:
                return False
            raise Failed(f"sshd exited ({proc.returncode}): {' | '.join(text.strip().splitlines()[-5:])}")
        said_so = said_so or f"Server listening on {HOST} port {port}." in text
        if said_so:
            try:
                with socket.create_connection((HOST, port), timeout=2) as s:
                    s.settimeout(2)
                    if s.recv(64).startswith(b"SSH-2.0-"):
                        return True
            except OSError:
                pass
        time.sleep(0.01)
    raise Failed(f"sshd did not listen on {HOST}:{port} within {START_TIMEOUT} s (see {log_path})")


def keygen(path, kind, *extra):
    return subprocess.Popen(
        ["ssh-keygen", "-q", "-t", kind, *extra, "-N", "", "-C", "", "-f", path],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def serve():
    if os.geteuid() != 0:
        raise Unavailable("must run as root (sshd chroots the SFTP user and reads /etc/shadow)")
    install_sshd()
    password = ensure_user()
    user = pwd.getpwnam(USER)
    remove_abandoned()

    folder = tempfile.mkdtemp(prefix="srv-", dir=BASE)
    watchdog, watchdog_pipe = start_watchdog(folder)
    sshd = None
    try:
        # Written whole under another name, then renamed: another start never reads it half-written.
        with open(os.path.join(folder, ".owner"), "w") as f:
            f.write(identity(os.getpid()))
        os.rename(os.path.join(folder, ".owner"), os.path.join(folder, "owner"))
        os.chmod(folder, 0o711)  # sshd reads authorized_keys as the user: traversable, not listable
        keys = {
            "host": os.path.join(folder, "ssh_host_ed25519_key"),
            "ed25519": os.path.join(folder, "client_ed25519"),
            "rsa": os.path.join(folder, "client_rsa"),
        }
        pending = [keygen(keys["host"], "ed25519"), keygen(keys["ed25519"], "ed25519")]
        for suffix in ("", ".pub"):
            shutil.copyfile(RSA_KEY + suffix, keys["rsa"] + suffix)
        os.chmod(keys["rsa"], 0o600)
        root = os.path.join(folder, "root")
        os.mkdir(root, 0o755)
        os.chmod(root, 0o755)
        for name in ("upload", "outbound"):
            path = os.path.join(root, name)
            os.mkdir(path, 0o755)
            os.chown(path, user.pw_uid, user.pw_gid)
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        st = os.stat("/run/sshd")
        if st.st_uid != 0 or st.st_mode & 0o022:
            os.chown("/run/sshd", 0, 0)
            os.chmod("/run/sshd", 0o755)
        version = sshd_version()
        for process in pending:
            _, err = process.communicate()
            if process.returncode != 0:
                raise Failed(f"ssh-keygen failed: {err.decode(errors='replace').strip()}")

        def public(key):
            with open(key + ".pub") as f:
                return " ".join(f.read().split()[:2])

        authorized = os.path.join(folder, "authorized_keys")
        with open(authorized, "w") as f:
            f.write(f"{public(keys['ed25519'])} {USER}-ed25519\n{public(keys['rsa'])} {USER}-rsa\n")
        os.chmod(authorized, 0o644)
        host_key = public(keys["host"])

        config_path = os.path.join(folder, "sshd_config")
        log_path = os.path.join(folder, "sshd.log")
        deadline = time.monotonic() + START_TIMEOUT
        for attempt in range(PORT_ATTEMPTS):
            port = free_port()
            with open(config_path, "w") as f:
                f.write(sshd_config(folder, port, version))
            with open(log_path, "ab") as log_file:
                log_file.truncate(0)
                sshd = subprocess.Popen(
                    [SSHD, "-D", "-e", "-f", config_path],
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=log_file,
                )
            os.write(watchdog_pipe, f"{sshd.pid}\n".encode())
            if wait_listening(sshd, log_path, port, deadline):
                break
            sshd.wait()
            sshd = None
            log(f"port {port} was taken; trying another")
        else:
            raise Failed(f"sshd could not bind a port in {PORT_ATTEMPTS} attempts")

        known_hosts = os.path.join(folder, "known_hosts")
        with open(known_hosts, "w") as f:
            f.write(f"[{HOST}]:{port} {host_key}\n")
        announcement = {
            "url": f"sftp://{HOST}:{port}",
            "host": HOST,
            "port": port,
            "user": USER,
            "password": password,
            "private_key": keys["ed25519"],
            "private_key_rsa": keys["rsa"],
            "host_key_public": host_key,
            "known_hosts": known_hosts,
            "root": root,
            "upload": "upload",
            "outbound": "outbound",
            "log": log_path,
        }
        sys.stdout.write(json.dumps(announcement) + "\n")
        sys.stdout.flush()

        while os.read(0, 65536):
            pass  # until stdin closes
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
        if sshd is not None:
            kill_sshd(sshd.pid, folder)
            with contextlib.suppress(subprocess.TimeoutExpired):
                sshd.wait(timeout=5)
        shutil.rmtree(folder, ignore_errors=True)
        os.close(watchdog_pipe)  # the watchdog finds nothing left to do, and exits
        with contextlib.suppress(OSError):
            os.waitpid(watchdog, 0)


def main():
    def stop(signum, frame):
        raise Terminated()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    try:
        serve()
    except Terminated:
        return 0
    except Unavailable as e:
        print(json.dumps({"error": f"OpenSSH SFTP server unavailable: {e}"}), flush=True)
        return 2
    except Exception as e:  # noqa: BLE001 — whatever went wrong, say so on the announcement line
        print(json.dumps({"error": f"OpenSSH SFTP server failed: {type(e).__name__}: {e}"}), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
