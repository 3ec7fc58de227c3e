/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-reserve: shared types and limits.
 *
 * The binder is three layers: the config parser (config.c) turns lines into
 * rules, the sysfs model (sysfs.c) turns /sys into an array of PCI functions,
 * and the selection engine (select.c) decides which function goes to which
 * driver.  Everything else (actions.c, report.c, main.c) only reads the
 * result.  Memory is static: the bounds below are the product's limits and
 * every one of them fails loudly when exceeded.
 */
#ifndef VFIO_RESERVE_H
#define VFIO_RESERVE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_FUNCS     32768  /* PCI functions on one host (an 8-socket box has ~2000) */
#define MAX_GROUPS    65536  /* IOMMU group numbers are below this */
#define MAX_RULES     256    /* rules in one config */
#define MAX_SLOTS     512    /* entries under /sys/bus/pci/slots */
#define MAX_DEPTH     16     /* bridges between a root bus and a device, plus itself */
#define MAX_LINE      1024   /* bytes in one config line, newline included */
#define MAX_NAME      64     /* driver and slot names, NUL included */
#define MAX_PATHLEN   4096

/* Exit codes, as documented in vfio-reserve(8). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* A PCI address packed as domain:16 bus:8 device:5 function:3, so that
 * numeric order is address order and the device is addr >> 3. */
typedef uint32_t pci_addr;
#define ADDR_STRLEN 13 /* "dddd:bb:dd.f" + NUL */
#define ADDR_DEVICE(a) ((a) >> 3)

/* ---- fmt.c: printf-style formatting without stdio ---------------------- */
int fmt_v(char *buf, size_t size, const char *f, va_list ap)
	__attribute__((format(printf, 3, 0)));
int fmt(char *buf, size_t size, const char *f, ...)
	__attribute__((format(printf, 3, 4)));
void out(const char *f, ...) __attribute__((format(printf, 1, 2)));
void out_str(const char *text);
void out_char(char c);
int out_flush(void);
int out_flush_error(void);
void err_str(const char *text);

/* ---- util.c ----------------------------------------------------------- */
enum log_level { LOG_ERR = 3, LOG_WARN = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

extern int verbosity;          /* -1 quiet, 0 normal, 1 verbose */
extern const char *sys_root;   /* "" for the real system, else --root DIR */

void log_to_kmsg(void);
void logmsg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
int root_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int read_file(const char *path, char *buf, size_t size);
int read_attr(const char *path, char *buf, size_t size);
int write_attr(const char *path, const char *value);
int read_link_name(const char *path, char *buf, size_t size);

/* What the kernel changes under us, the driver links, and what changes the
 * kernel, the stores, are reached only through this table, as pciutils
 * reaches PCI through struct pci_methods.  The program links sysfs_kernel;
 * the unit-test build adds tests/fake/kernel.c, a synchronous model of the
 * PCI core, and compiles util.c with -DKERNEL_OPS=fake_kernel. */
struct kernel_ops {
	int (*write_attr)(const char *path, const char *value);
	int (*read_link)(const char *path, char *buf, size_t size);
};
extern const struct kernel_ops sysfs_kernel;
bool path_exists(const char *path);
int format_addr(char *buf, pci_addr addr);
bool parse_addr(const char *s, pci_addr *addr);
bool parse_hex(const char *s, size_t digits, uint32_t *out);
bool parse_number(const char *s, int base, uint32_t *out);
bool contains(const char *haystack, const char *needle);
bool word_in(const char *word, const char *words);
long elapsed_us(void);
int close_stdout(void);
int run_program(char *const argv[], int out_fd);
void program_output(char *const argv[], char *buf, size_t size);
void lib_script(char *buf, size_t size, const char *name);

/* Buffered reading without stdio's malloc: the binder stays small and
 * static, and has nothing to free. */
struct line_reader {
	int fd;
	int error;                  /* errno of a failed read, 0 if none */
	size_t pos, len;
	char buf[4096];
};
int reader_open(struct line_reader *r, const char *path);
#define READER_EOF (-1)
int reader_getc(struct line_reader *r);
int reader_line(struct line_reader *r, char *out, size_t size);
void reader_close(struct line_reader *r);

struct dir_reader {
	int fd;
	size_t pos, len;
	char buf[8192];
};
int dir_open(struct dir_reader *d, const char *path);
const char *dir_next(struct dir_reader *d);
void dir_close(struct dir_reader *d);

/* ---- config.c ---------------------------------------------------------- */
enum selector {
	SEL_ADDR = 1 << 0,
	SEL_ID   = 1 << 1,
	SEL_PATH = 1 << 2,
	SEL_SLOT = 1 << 3,
};
#define SEL_LOCATORS (SEL_ADDR | SEL_PATH | SEL_SLOT)

struct rule {
	int line;
	unsigned selectors;
	pci_addr addr;
	uint16_t vendor, device;
	pci_addr path[MAX_DEPTH];   /* [0] full address, then devfn below each bridge */
	int path_len;
	char slot[MAX_NAME];
	char driver[MAX_NAME];
	char reset[MAX_NAME];       /* reset=: a reset_method name, "" if none */
	uint16_t vfs;               /* vfs=N: VFs to create on the PF, 0 if none */
	uint16_t vf;                /* vf=K: selects VF K of the PF, as K + 1 */
	bool force, single, siblings;
	char text[96];              /* the rule as written, for status output */
};

struct config {
	const char *file;
	bool missing;
	bool unusable;              /* unreadable or unsafe: no rule at all */
	int errors;
	int nrules;
	struct rule rules[MAX_RULES];
};

int parse_rule(struct rule *rule, char **tokens, int ntokens,
               const char *file, int line);
int config_load(struct config *conf, const char *file);
struct stat;
int refuse_unsafe(const char *file, const struct stat *st);

/* ---- sysfs.c ----------------------------------------------------------- */
struct pci_func {
	pci_addr addr;
	uint16_t vendor, device;
	uint32_t class;             /* 24 bits: base, sub, prog-if */
	int group;                  /* IOMMU group, -1 without one */
	int8_t boot_vga;            /* -1 no attribute, else 0 or 1 */
	bool boot_device;           /* a function of the boot VGA's device */
	char driver[MAX_NAME];      /* "" when unbound */
	char override[MAX_NAME];    /* "" when unset; see function_override() */
	bool override_read;
	pci_addr chain[MAX_DEPTH];  /* from the root-bus device down to this one */
	int depth;
	int slot;                   /* index into host.slots, -1 without one */
	int next_in_group;
	uint8_t host_use;           /* what the running host uses it for; see guard.c */
	int16_t vfs_rule;           /* a vfs= rule locates this PF, as index + 1 */
	/* Filled in by the selection engine. */
	int rule;                   /* index into config.rules, -1 if unselected */
	bool matched;               /* by the rule's selectors, not along with one */
	int left_by;                /* the rule that left it to the host, or -1 */
	enum left_reason {
		LEFT_OTHER_GROUP = 1,   /* a sibling in another IOMMU group */
		LEFT_NO_GROUP,          /* no group, for a vfio driver */
		LEFT_NOT_CARD,          /* a sibling that is not part of the card */
		LEFT_HOST_USE,          /* the running host needs it (guard.c) */
	} left_why;
};

struct slot {
	char name[MAX_NAME];
	uint32_t device;            /* ADDR_DEVICE() of the slot's address */
};

struct host {
	int nfuncs;
	struct pci_func funcs[MAX_FUNCS];
	int nslots;
	struct slot slots[MAX_SLOTS];
	bool read_paths;            /* set before host_scan: topology paths wanted */
	bool guarded;               /* find_host_uses ran: selection honours host_use */
	bool has_groups;            /* the IOMMU is on: functions have groups */
	int group_head[MAX_GROUPS];
};

int host_scan(struct host *host);
struct pci_func *host_find(struct host *host, pci_addr addr);
const char *function_override(struct pci_func *f);
void device_functions(const struct host *host, int i, int *first, int *end);
bool is_bridge(const struct pci_func *f);
bool is_display(const struct pci_func *f);
bool device_has_display(const struct host *host, int i);
int format_path(char *buf, size_t size, const struct pci_func *f);

/* ---- hostinfo.c ------------------------------------------------------- */
enum cpu_vendor { CPU_UNKNOWN, CPU_INTEL, CPU_AMD };

struct cpu_info {
	bool readable;
	enum cpu_vendor vendor;
	bool vmx, svm;
};

void load_names(const struct host *host, bool all);
void function_name(char *buf, size_t size, const struct pci_func *f);
const char *class_name(char *buf, size_t size, uint32_t class);
struct cpu_info read_cpu(void);
int count_entries(const char *dirpath);
bool module_listed(const char *list, const char *kernel, const char *module);
int oldest_kernel_major(void);

/* ---- kcmdline.c -------------------------------------------------------- */
struct kernel_param {
	const char *name, *value;   /* value NULL for a bare word */
};
int kernel_params(const struct kernel_param **out);
bool param_is(const char *name, const char *want);
const char *kernel_param(const char *name);

/* ---- guard.c ----------------------------------------------------------- */
struct selection;
void find_host_uses(struct host *host);
const char *host_use_text(const struct pci_func *f);
int refuse_host_uses(const struct host *host, const struct config *conf,
                     const struct selection *sel, enum log_level level,
                     const char *note);

/* ---- holders.c -------------------------------------------------------- */
int log_holders(const struct pci_func *f, enum log_level level, const char *tail);

/* ---- select.c ---------------------------------------------------------- */
enum rule_state {
	RULE_MATCHED,        /* selected at least one function */
	RULE_NO_DEVICE,      /* nothing carries the selectors */
	RULE_MISMATCH,       /* a located device carries another ID */
	RULE_BOOT_VGA,       /* only the protected boot VGA matched */
	RULE_BRIDGE,         /* only bridges matched */
	RULE_NO_GROUP,       /* only functions without an IOMMU group, for vfio */
	RULE_VFS,            /* vfs= beyond what the PF can have */
};

struct rule_result {
	enum rule_state state;
	int nselected;
	pci_addr found_addr;        /* the function that explains an empty rule */
	uint16_t found_vendor, found_device;
	int found_vfs;              /* RULE_VFS: the PF's sriov_totalvfs */
	int conflicts;              /* functions an earlier rule took for another driver */
	int refused;                /* functions the guard kept for the host */
	int refused_funcs[8];       /* the first of them, as host.funcs indices */
	bool ungrouped_siblings;    /* took siblings with no groups to go by */
	pci_addr conflict_addr;
	int conflict_rule;
};

struct selection {
	struct rule_result results[MAX_RULES];
	int nselected;
	int refused;                /* over all rules */
};

void select_functions(struct host *host, const struct config *conf,
                      struct selection *sel);
void warn_rule_results(const struct config *conf, const struct selection *sel);
void rule_problem(char *buf, size_t size, const struct config *conf,
                  const struct selection *sel, int index);
void no_group_text(char *buf, size_t size, const char *addr, const char *driver);
bool needs_group(const char *driver);
int group_blocker(const struct host *host, const struct config *conf, int group,
                  int from, bool planned);
void rule_origin(char *buf, size_t size, const struct config *conf,
                 const struct rule *rule);
const char *rule_label(char *buf, size_t size, const struct rule *rule);
const char *target_driver(const struct config *conf, const struct pci_func *f);
bool is_reservation_driver(const struct config *conf, const char *driver);

/* ---- actions.c --------------------------------------------------------- */
struct apply_opts {
	bool dry_run;
	bool boot;
	bool unbound;       /* only unbound functions, overrides only */
	bool force;         /* unbind what a process or the console holds */
};
int apply(struct host *host, const struct config *conf,
          const struct selection *sel, struct apply_opts opts);
int release(struct host *host, const struct config *conf, const char *what,
            bool force);
enum reset_finding { RESET_NONE, RESET_OK, RESET_SHARED, RESET_OLD, RESET_LACKS };
enum reset_finding reset_check(char *text, const struct host *host, int i,
                               const char *method);

bool load_driver(const char *driver);
bool write_or_warn(const char *path, const char *value);
void current_driver(const struct pci_func *f, char *buf, size_t size);
bool write_bus_attr(const char *attr, const struct pci_func *f);

/* ---- sriov.c ----------------------------------------------------------- */
int sriov_create(const struct host *host, const struct config *conf, bool dry_run);
void sriov_finish(struct host *host, const struct config *conf, bool unbound);
bool virtfn(pci_addr pf, int k, pci_addr *vf);
int pf_number(pci_addr pf, const char *attr);

/* ---- report.c ---------------------------------------------------------- */
int cmd_check(struct host *host, const struct config *conf,
              const struct selection *sel, bool json);
bool function_reserved(const struct host *host, const struct config *conf,
                       const struct pci_func *f);
int status_blocker(const struct host *host, const struct config *conf,
                   const struct pci_func *f);
int cmd_status(struct host *host, const struct config *conf,
               const struct selection *sel, bool json);
int cmd_cmdline(struct host *host, const struct config *conf,
                const struct selection *sel, bool json);
int cmdline_args(const struct host *host, const struct config *conf, const char **args);
void log_cmdline_drift(const struct host *host, const struct config *conf);
int cmd_modules(const struct config *conf);
int cmd_modaliases(struct host *host);

/* ---- cli.c ------------------------------------------------------------- */
int usage_error(const char *format, const char *arg);
int set_root(const char *root, const char *name);

/* ---- bootreport.c ------------------------------------------------------ */
void report_start(void);
void report_vadd(int level, const char *format, va_list ap)
	__attribute__((format(printf, 2, 0)));
void report_kill_switch(const char *arg);
void report_write(bool replace);
void report_show(bool json);
struct boot_facts {
	bool kill_switch;
	long binder_us;     /* how long `apply --boot` took, -1 not said */
};
bool report_facts(struct boot_facts *facts);

/* ---- fingerprint.c ---------------------------------------------------- */
enum fp_kind {
	FP_NOTE,            /* as recorded, found another way (path= followed it) */
	FP_WARN,            /* changed, and the rule goes on */
	FP_STOPS,           /* changed: the rule reserves nothing at boot */
	FP_VERDICT,         /* after a rule's FP_STOPS: nothing reserved */
};
typedef void (*fingerprint_say)(const struct config *conf, int rule,
                                enum fp_kind kind, const char *text);
void record_path(char *buf, size_t size, const struct config *conf);
bool record_exists(const struct config *conf);
int record_open(struct line_reader *in, const struct config *conf);
int cmd_fingerprint(const struct host *host, const struct config *conf);
bool fingerprint_compare(const struct host *host, const struct config *conf,
                         int only, fingerprint_say say);
void fingerprint_boot(struct host *host, const struct config *conf,
                      struct selection *sel);
bool subsystem_id(char *buf, size_t size, const struct pci_func *f);

/* ---- image.c ----------------------------------------------------------- */
int cmd_image(struct host *host, struct config *conf, struct selection *sel,
              const char *out);

/* ---- json.c ------------------------------------------------------------ */
void json_begin(char open);
void json_end(char close);
void json_key(const char *key);
void json_str(const char *key, const char *value);
void json_int(const char *key, long value);
void json_bool(const char *key, bool value);
void json_null(const char *key);

#endif
