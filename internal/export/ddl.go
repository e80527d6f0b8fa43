package export

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"
)

// The DDL an export writes beside its tables (ddl/), one file per engine,
// so that an analyst who copies the folder to LOCATION (--location: an
// s3:// prefix for Athena and Trino, a local path or URI for DuckDB, Spark
// and ClickHouse) runs it unchanged. Column types come from the same row
// structs the Parquet files are written from.

// DDLFiles are the DDL files of an export, below ddl/.
var DDLFiles = []string{"athena.sql", "trino.sql", "spark.py", "duckdb.sql", "clickhouse.sql"}

// column is one column of a table, as the engines see it.
type column struct {
	name   string
	kind   string // string, bigint, boolean, timestamp, binary, array, struct
	elem   *column
	fields []column
}

// columnsOf lists the columns of row struct type t, from their parquet
// tags.
func columnsOf(t reflect.Type) []column {
	var out []column
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("parquet")
		if tag == "" || tag == "-" {
			continue
		}
		c := columnOfType(f.Type)
		c.name = strings.Split(tag, ",")[0]
		out = append(out, c)
	}
	return out
}

var timeType = reflect.TypeOf(time.Time{})

func columnOfType(t reflect.Type) column {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return column{kind: "timestamp"}
	case t.Kind() == reflect.Bool:
		return column{kind: "boolean"}
	case t.Kind() == reflect.Int64:
		return column{kind: "bigint"}
	case t.Kind() == reflect.String:
		return column{kind: "string"}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return column{kind: "binary"}
	case t.Kind() == reflect.Slice:
		e := columnOfType(t.Elem())
		return column{kind: "array", elem: &e}
	case t.Kind() == reflect.Struct:
		return column{kind: "struct", fields: columnsOf(t)}
	}
	panic("export: no engine type for " + t.String())
}

// hive is the column's type in Athena's and Spark's (Hive) DDL.
func (c column) hive() string {
	switch c.kind {
	case "array":
		return "array<" + c.elem.hive() + ">"
	case "struct":
		var fs []string
		for _, f := range c.fields {
			fs = append(fs, f.name+":"+f.hive())
		}
		return "struct<" + strings.Join(fs, ",") + ">"
	}
	return c.kind
}

// trino is the column's type in Trino's Hive connector.
func (c column) trino() string {
	switch c.kind {
	case "string":
		return "varchar"
	case "binary":
		return "varbinary"
	case "timestamp":
		return "timestamp(6)"
	case "array":
		return "array(" + c.elem.trino() + ")"
	case "struct":
		var fs []string
		for _, f := range c.fields {
			fs = append(fs, f.name+" "+f.trino())
		}
		return "row(" + strings.Join(fs, ", ") + ")"
	}
	return c.kind
}

// tableDefs are the tables with their row types, in Tables order.
var tableDefs = []struct {
	name string
	row  reflect.Type
}{
	{"events", reflect.TypeOf(eventRow{})},
	{"access_log", reflect.TypeOf(accessRow{})},
	{"evidence", reflect.TypeOf(evidenceRow{})},
	{"item_status", reflect.TypeOf(itemRow{})},
	{"findings", reflect.TypeOf(findingRow{})},
	{"digests", reflect.TypeOf(digestRow{})},
	{"lake_sign_files", reflect.TypeOf(lakeSignRow{})},
	{"lake_results", reflect.TypeOf(lakeResultRow{})},
	{"lake_rows", reflect.TypeOf(lakeRowRow{})},
}

// dateRange is the first and last date among a table's partition values
// (the Hive null left out); ok false when there is none.
func dateRange(parts []string) (lo, hi string, ok bool) {
	var ds []string
	for _, p := range parts {
		if p != HiveNull {
			ds = append(ds, p)
		}
	}
	if len(ds) == 0 {
		return "", "", false
	}
	slices.Sort(ds)
	return ds[0], ds[len(ds)-1], true
}

// writeDDL writes the DDL into folder sub of the export folder for the
// tables at location and lists its files in the manifest.
func writeDDL(dir, sub, location string, m *Manifest) error {
	loc := strings.TrimSuffix(location, "/")
	parts := map[string][]string{}
	for _, t := range m.Tables {
		parts[t.Name] = t.Partitions
	}
	files := map[string]string{
		"athena.sql":     athenaDDL(loc, parts),
		"trino.sql":      trinoDDL(loc),
		"spark.py":       sparkDDL(loc),
		"duckdb.sql":     duckDBDDL(loc),
		"clickhouse.sql": clickHouseDDL(loc),
	}
	if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(sub)), 0o755); err != nil {
		return err
	}
	for _, name := range DDLFiles {
		f, err := writeListed(dir, sub+"/"+name, []byte(files[name]))
		if err != nil {
			return err
		}
		f.Table = "ddl"
		m.Files = append(m.Files, f)
	}
	return nil
}

func header(engine, loc string) string {
	return fmt.Sprintf("-- %s DDL for a forensic export (%s) at %s.\n-- Written by forensic export; the export's MANIFEST.json lists this file with its SHA-256.\n\n", engine, Format, loc)
}

func athenaDDL(loc string, parts map[string][]string) string {
	var b strings.Builder
	b.WriteString(header("Amazon Athena", loc))
	b.WriteString("-- Partitions are projected from the dates the export holds: no MSCK REPAIR is needed.\n")
	b.WriteString("-- Rows without a time are in partition " + HiveNull + ", which projection leaves out.\n")
	b.WriteString("CREATE DATABASE IF NOT EXISTS forensic;\n\n")
	for _, t := range tableDefs {
		cols := columnsOf(t.row)
		fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS forensic.%s (\n", t.name)
		for i, c := range cols {
			sep := ","
			if i == len(cols)-1 {
				sep = ""
			}
			fmt.Fprintf(&b, "  `%s` %s%s\n", c.name, c.hive(), sep)
		}
		b.WriteString(")\n")
		pc := partitionOf[t.name]
		if pc != "" {
			fmt.Fprintf(&b, "PARTITIONED BY (`%s` string)\n", pc)
		}
		fmt.Fprintf(&b, "STORED AS PARQUET\nLOCATION '%s/%s/'\n", loc, t.name)
		if lo, hi, ok := dateRange(parts[t.name]); ok && pc != "" {
			fmt.Fprintf(&b, "TBLPROPERTIES (\n  'projection.enabled' = 'true',\n  'projection.%[1]s.type' = 'date',\n  'projection.%[1]s.format' = 'yyyy-MM-dd',\n  'projection.%[1]s.range' = '%[2]s,%[3]s',\n  'projection.%[1]s.interval' = '1',\n  'projection.%[1]s.interval.unit' = 'DAYS',\n  'storage.location.template' = '%[4]s/%[5]s/%[1]s=${%[1]s}/'\n)", pc, lo, hi, loc, t.name)
		} else if pc != "" {
			b.WriteString("-- no dated partition: run MSCK REPAIR TABLE after creating it")
		}
		b.WriteString(";\n\n")
	}
	return b.String()
}

func trinoDDL(loc string) string {
	var b strings.Builder
	b.WriteString(header("Trino / Presto (Hive connector, catalog hive)", loc))
	b.WriteString("CREATE SCHEMA IF NOT EXISTS hive.forensic;\n\n")
	for _, t := range tableDefs {
		cols := columnsOf(t.row)
		pc := partitionOf[t.name]
		fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS hive.forensic.%s (\n", t.name)
		for i, c := range cols {
			sep := ","
			if i == len(cols)-1 && pc == "" {
				sep = ""
			}
			fmt.Fprintf(&b, "  \"%s\" %s%s\n", c.name, c.trino(), sep)
		}
		if pc != "" {
			fmt.Fprintf(&b, "  \"%s\" varchar\n", pc)
		}
		fmt.Fprintf(&b, ") WITH (\n  format = 'PARQUET',\n  external_location = '%s/%s/'", loc, t.name)
		if pc != "" {
			fmt.Fprintf(&b, ",\n  partitioned_by = ARRAY['%s']", pc)
		}
		b.WriteString("\n);\n")
		if pc != "" {
			fmt.Fprintf(&b, "CALL hive.system.sync_partition_metadata('forensic', '%s', 'ADD');\n", t.name)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func sparkDDL(loc string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Apache Spark (PySpark) for a forensic export (%s) at %s.\n# Written by forensic export; the export's MANIFEST.json lists this file with its SHA-256.\n", Format, loc)
	b.WriteString("# Run with spark-submit, or paste into a pyspark shell: each table becomes a temporary view.\n")
	b.WriteString("from pyspark.sql import SparkSession\n\nspark = SparkSession.builder.getOrCreate()\n")
	fmt.Fprintf(&b, "LOCATION = %q\n\nSCHEMAS = {\n", loc)
	for _, t := range tableDefs {
		var cs []string
		for _, c := range columnsOf(t.row) {
			cs = append(cs, "`"+c.name+"` "+strings.ToUpper(c.hive()))
		}
		if pc := partitionOf[t.name]; pc != "" {
			cs = append(cs, "`"+pc+"` DATE")
		}
		fmt.Fprintf(&b, "    %q: %q,\n", t.name, strings.Join(cs, ", "))
	}
	b.WriteString("}\n\nfor name, schema in SCHEMAS.items():\n")
	b.WriteString("    path = LOCATION + \"/\" + name\n")
	b.WriteString("    df = spark.read.schema(schema).option(\"basePath\", path).parquet(path)\n")
	b.WriteString("    df.createOrReplaceTempView(name)\n")
	return b.String()
}

func duckDBDDL(loc string) string {
	var b strings.Builder
	b.WriteString(header("DuckDB", loc))
	for _, t := range tableDefs {
		if pc := partitionOf[t.name]; pc != "" {
			fmt.Fprintf(&b, "CREATE OR REPLACE VIEW %s AS SELECT * FROM read_parquet('%s/%s/*/*.parquet', hive_partitioning = true, hive_types = {'%s': DATE});\n", t.name, loc, t.name, pc)
		} else {
			fmt.Fprintf(&b, "CREATE OR REPLACE VIEW %s AS SELECT * FROM read_parquet('%s/%s/*.parquet');\n", t.name, loc, t.name)
		}
	}
	return b.String()
}

func clickHouseDDL(loc string) string {
	var b strings.Builder
	b.WriteString(header("ClickHouse", loc))
	fn := "file"
	if strings.HasPrefix(loc, "s3://") || strings.HasPrefix(loc, "https://") || strings.HasPrefix(loc, "http://") {
		fn = "s3"
	}
	b.WriteString("-- file() reads below the server's user_files path; s3() an s3:// or https:// location.\n")
	b.WriteString("CREATE DATABASE IF NOT EXISTS forensic;\n")
	for _, t := range tableDefs {
		glob := "*.parquet"
		if partitionOf[t.name] != "" {
			glob = "*/*.parquet"
		}
		fmt.Fprintf(&b, "CREATE OR REPLACE VIEW forensic.%s AS SELECT * FROM %s('%s/%s/%s', 'Parquet');\n", t.name, fn, loc, t.name, glob)
	}
	return b.String()
}
