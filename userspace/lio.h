/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * replicactl: LIO (Linux SCSI target) exports of replica devices, written
 * straight to configfs (no targetcli).  One iblock backstore per exported
 * device, named "replica-<dm name>", plus one fabric target for it:
 *
 *   loop   tcm_loop:  loopback/naa.5001405<hash>/tpgt_1/lun/lun_0 (a local
 *          SCSI disk appears)
 *   iscsi  iscsi_target_mod:  iscsi/iqn.2024-11.org.dm-replica:<name>/tpgt_1,
 *          portal 127.0.0.1:3260 unless --portal, open TPG (no auth,
 *          generated node ACLs, write protected when read-only)
 *
 * Read-only: the backstore is readonly=1 (the LUN reports write-protect)
 * and the iSCSI TPG write-protects its LUNs.  A tcm_loop LUN is not
 * protected by LIO, so a read-only loop export needs a device that refuses
 * writes itself (a view created read-only); otherwise it is Not Supported.
 *
 * Backstores are matched to devices by device number (the backstore's
 * "info" file), so exports made by others (targetcli) are seen too: they
 * are never changed, and make the device In Use (6).
 */
#ifndef REPLICACTL_LIO_H
#define REPLICACTL_LIO_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rel;

struct lio_req {
	const char *sync;	/* relationship id, ElementName or dm name */
	bool view;		/* export the snapshot/clone view, not the front */
	bool read_only;
	const char *fabric;	/* "loop" (default) or "iscsi" */
	const char *portal;	/* iscsi: IP:PORT, default 127.0.0.1:3260 */
};

/* replicactl export / unexport. */
int lio_export(const struct lio_req *q, struct json_object *out);
/* which: 0 both devices, 1 the front only, 2 the view only. */
int lio_unexport(const char *sync, int which, struct json_object *out);

/*
 * Before Detach / Return To ResourcePool: remove this helper's exports of
 * the relationship's front and view.  6 (In Use, nothing removed) when an
 * LIO backstore this helper did not make holds one of them.
 */
int lio_unexport_rel(const struct rel *r);

/* "iblock_N/NAME" of an LIO backstore holding MAJ:MIN; false when none. */
bool lio_holder(uint32_t major, uint32_t minor, char *buf, size_t size);

#endif
