//! Issue 12: a hostile RUN under `--isolation chroot` in a default job container (podman, root
//! in it, default capabilities and seccomp). The RUN holds `CAP_SYS_CHROOT` in its namespaces
//! and tries the classic escape (`mkdir x; chroot x; cd ../../..; chroot .`) and the job
//! container's PID 1's root (`/proc/1/root`) to read a marker that exists only in the job
//! container's `/`, outside the build's root filesystem. Before the root was moved over `/`
//! (runc's no-pivot), the classic escape read the marker.

use wharf_testkit::registry::Registry;

use crate::ci_containers::podman;
use crate::{bin, busybox_store, ok, text};

const MARKER: &str = "wharf-marker-outside-the-build";
const SECRET: &str = "job-container-secret";

/// Prints one line per attempt; exits 1 when any reached the marker, 2 when the escape could
/// not even be tried (no chroot allowed: the test would prove nothing).
const ESCAPE: &str = r#"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int attempt(const char *what, const char *path) {
    char buf[128] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("%s: contained (%s: %s)\n", what, path, strerror(errno));
        return 0;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    printf("%s: ESCAPED, %s holds %s\n", what, path, n > 0 ? buf : "");
    return 1;
}

int main(void) {
    int escaped = 0;
    setvbuf(stdout, NULL, _IONBF, 0);
    escaped |= attempt("proc-1-root", "/proc/1/root/wharf-marker-outside-the-build");
    escaped |= attempt("direct", "/wharf-marker-outside-the-build");
    mkdir("/x", 0755);
    if (chroot("/x") != 0) {
        printf("chroot /x: %s\n", strerror(errno));
        return 2;
    }
    /* The working directory stayed outside the new root: walk up from it. */
    for (int i = 0; i < 64; i++)
        chdir("..");
    if (chroot(".") != 0) {
        printf("chroot .: %s\n", strerror(errno));
        return 2;
    }
    escaped |= attempt("classic-escape", "/wharf-marker-outside-the-build");
    return escaped;
}
"#;

#[test]
fn a_run_cannot_chroot_out_of_the_build_root_in_a_job_container() {
    if !wharf_testkit::ci::available() {
        return;
    }
    let Some((tmp, seed)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let a = reg.addr().to_owned();
    ok(
        "ferry",
        &seed,
        &[
            "copy",
            "--dest-tls-verify=false",
            "store:localhost/busybox:latest",
            &format!("docker://{a}/busybox:latest"),
        ],
    );
    let rootfs = tmp.path().join("rootfs");
    wharf_testkit::ci::job_rootfs(&rootfs, &bin("kiln")).unwrap();
    std::fs::write(rootfs.join(MARKER), SECRET).unwrap();
    let ctx = rootfs.join("work/ctx");
    crate::compile_static(&ctx, "escape", ESCAPE);
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {a}/busybox\nCOPY escape /escape\nRUN /escape\n"),
    )
    .unwrap();
    let conf = wharf_testkit::ci::podman_conf(tmp.path()).unwrap();
    let script = "kiln --root /store/esc build --tls-verify=false --isolation chroot \
                  -t escape /work/ctx 2>&1";
    let check = |row: &str, flags: &[&str]| {
        let out = podman(&conf, &rootfs, flags, script);
        let log = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(
            !log.contains(SECRET),
            "{row}: the RUN read the marker:\n{log}"
        );
        assert!(
            log.contains("classic-escape: contained"),
            "{row}: the escape was not tried, or not contained:\n{log}"
        );
        assert!(
            log.contains("proc-1-root: contained"),
            "{row}: the job container's PID 1 root was reachable:\n{log}"
        );
        assert!(out.status.success(), "{row}: {log}");
    };
    // Default job container: the RUN gets a user and a mount namespace.
    check("default", &[]);
    // With CAP_SYS_ADMIN the RUN gets a mount namespace without a user namespace (and lacks
    // the CAP_SYS_ADMIN the job container's PID 1 holds).
    let volume = tmp.path().join("volume");
    std::fs::create_dir_all(&volume).unwrap();
    let vol = format!("{}:/store", volume.display());
    check("sys-admin", &["--cap-add", "SYS_ADMIN", "-v", &vol]);
}
