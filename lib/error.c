/*
 * error.c - static text for return codes and the library version.
 */
#include "pim.h"

const char *pim_strerror(int code)
{
	switch (code) {
	case PIM_OK: return "success";
	case PIM_EINVALID: return "invalid argument";
	case PIM_ENOTFOUND: return "not found";
	case PIM_EPARSE: return "cannot parse input";
	case PIM_EIO: return "input/output error";
	case PIM_EBUSY: return "catalog busy";
	case PIM_ENOMEM: return "out of memory";
	case PIM_EDB: return "catalog database error";
	case PIM_EEXISTS: return "already exists";
	case PIM_EDATA: return "the data has problems";
	case PIM_ELIMIT: return "size limit exceeded";
	case PIM_EVERSION: return "catalog written by a newer pim";
	case PIM_EDENIED: return "not allowed for this role";
	case PIM_ECONFLICT: return "change would lose data";
	default: return "unknown error";
	}
}

const char *pim_version(void)
{
	return PIM_VERSION_STRING;
}
