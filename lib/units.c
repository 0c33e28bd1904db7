/*
 * units.c - UN/ECE Recommendation 20 unit codes for measures, with their
 * dimension and factor to the dimension's base unit, so values convert
 * within a dimension (GRM -> KGM) and never across (KGM -> CMT).
 */
#include "schema.h"

#include <string.h>

#include "buf.h"

static const pim_unit units[] = {
	/* mass, base kilogram */
	{ "KGM", DIM_MASS, 1.0, "kg", "kilogram" },
	{ "GRM", DIM_MASS, 0.001, "g", "gram" },
	{ "MGM", DIM_MASS, 0.000001, "mg", "milligram" },
	{ "TNE", DIM_MASS, 1000.0, "t", "tonne" },
	{ "LBR", DIM_MASS, 0.45359237, "lb", "pound" },
	{ "ONZ", DIM_MASS, 0.028349523125, "oz", "ounce" },
	/* length, base metre */
	{ "MTR", DIM_LENGTH, 1.0, "m", "metre" },
	{ "CMT", DIM_LENGTH, 0.01, "cm", "centimetre" },
	{ "MMT", DIM_LENGTH, 0.001, "mm", "millimetre" },
	{ "DMT", DIM_LENGTH, 0.1, "dm", "decimetre" },
	{ "KMT", DIM_LENGTH, 1000.0, "km", "kilometre" },
	{ "INH", DIM_LENGTH, 0.0254, "in", "inch" },
	{ "FOT", DIM_LENGTH, 0.3048, "ft", "foot" },
	/* area, base square metre */
	{ "MTK", DIM_AREA, 1.0, "m2", "square metre" },
	{ "DMK", DIM_AREA, 0.01, "dm2", "square decimetre" },
	{ "CMK", DIM_AREA, 0.0001, "cm2", "square centimetre" },
	{ "MMK", DIM_AREA, 0.000001, "mm2", "square millimetre" },
	/* volume, base cubic metre */
	{ "MTQ", DIM_VOLUME, 1.0, "m3", "cubic metre" },
	{ "LTR", DIM_VOLUME, 0.001, "l", "litre" },
	{ "DMQ", DIM_VOLUME, 0.001, "dm3", "cubic decimetre" },
	{ "CLT", DIM_VOLUME, 0.00001, "cl", "centilitre" },
	{ "MLT", DIM_VOLUME, 0.000001, "ml", "millilitre" },
	{ "CMQ", DIM_VOLUME, 0.000001, "cm3", "cubic centimetre" },
	/* time, base second */
	{ "SEC", DIM_TIME, 1.0, "s", "second" },
	{ "MIN", DIM_TIME, 60.0, "min", "minute" },
	{ "HUR", DIM_TIME, 3600.0, "h", "hour" },
	{ "DAY", DIM_TIME, 86400.0, "d", "day" },
	{ "WEE", DIM_TIME, 604800.0, "wk", "week" },
	/* count, base one */
	{ "C62", DIM_COUNT, 1.0, "pcs", "one" },
	{ "H87", DIM_COUNT, 1.0, "piece", "piece" },
	{ "DZN", DIM_COUNT, 12.0, "dozen", "dozen" },
};

static const char *dim_names[DIM__COUNT] = {
	"none", "mass", "length", "area", "volume", "time", "count"
};

const pim_unit *pim_unit_find(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(units[i].code, s) == 0)
			return &units[i];
	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (pim_strcaseeq(units[i].symbol, s) ||
		    pim_strcaseeq(units[i].code, s))
			return &units[i];
	return NULL;
}

const char *pim_dimension_name(pim_dimension d)
{
	return d < DIM__COUNT ? dim_names[d] : "none";
}

pim_dimension pim_dimension_find(const char *name)
{
	for (int i = 1; i < DIM__COUNT; i++)
		if (strcmp(dim_names[i], name) == 0)
			return (pim_dimension)i;
	return DIM_NONE;
}
