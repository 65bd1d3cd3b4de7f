/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CGP_VERSION_H
#define CGP_VERSION_H

#define CGP_VERSION "0.1.0"

#endif
