/*
 * runner - run one command and report its wall time and peak RSS.
 *
 * usage: runner COMMAND [ARG...]
 *
 * Runs COMMAND with stdin and stdout on /dev/null (stderr is inherited) and
 * prints one line on stdout: "EXIT SECONDS MAXRSS_KIB USER_S SYS_S", where
 * EXIT is the exit status (or 128 + signal number), SECONDS the wall time
 * from fork to exit, MAXRSS_KIB the child's own peak resident set size and
 * USER_S and SYS_S the CPU time it used (all threads), both from wait4().
 * The CPU times help to read the wall times on a machine that is busy.
 *
 * Why a C program: on Linux a child's ru_maxrss starts from the high-water
 * mark of the address space it was forked from, so measuring from a Python
 * process reports at least Python's own footprint. Forked from this small
 * program, the floor is about a megabyte.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status, code;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: runner COMMAND [ARG...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "runner: fork: %s\n", strerror(errno));
		return 3;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			if (fd > 2)
				close(fd);
		}
		execvp(argv[1], argv + 1);
		fprintf(stderr, "runner: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "runner: wait4: %s\n", strerror(errno));
			return 3;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	code = WIFEXITED(status) ? WEXITSTATUS(status)
	     : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
	printf("%d %.6f %ld %.6f %.6f\n", code,
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       (long)ru.ru_maxrss,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	return 0;
}
