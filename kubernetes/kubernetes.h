/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the reservation looks like to a Kubernetes cluster: Node Feature
 * Discovery's local feature file (nfd.c) and KubeVirt's permitted host
 * devices (kubevirt.c), from the same count of the vendor:device IDs the
 * rules take (ids.c). */
#ifndef VFIO_RESERVE_KUBERNETES_H
#define VFIO_RESERVE_KUBERNETES_H

#include "reports.h"

/* A label value, or the name part of a label key, is at most 63
 * characters (kubernetes.io, "Labels and Selectors": syntax and character
 * set). */
#define LABEL_MAX 63

void label_safe(char *buf, size_t size, const char *text);

/* A vendor:device ID the rules take functions of, in address order of its
 * first function. */
struct taken_id {
	uint16_t vendor, device;
	int first;          /* host.funcs index of its first function */
	int selected;       /* functions of it the rules take */
	int reserved;       /* of them, on the rule's driver in a viable group */
	int for_vfio;       /* of them, for vfio-pci */
};

int taken_ids(const struct host *host, const struct config *conf,
              struct taken_id *ids);

#endif
