/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LU_KHO_H
#define LU_KHO_H

/*
 * Our node in the KHO tree. Distinct from the in-kernel LUO's node, so the
 * two never read each other's state; the format version lives in the record.
 */
#define LU_KHO_SUBTREE "liveupdate-module"

#endif /* LU_KHO_H */
