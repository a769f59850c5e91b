package org.sqzspark.job.cluster;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqzspark.job.LocalHdfs;
import org.sqzspark.job.cli.Main;
import org.sqzspark.job.report.Report;
import org.sqzspark.job.report.ReportFixture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report of a results folder on HDFS (a NameNode and a DataNode in this JVM), written back to HDFS. */
class ReportHdfsIT {

    @TempDir
    static Path tmp;
    static MiniDFSCluster hdfs;
    static String root;

    @BeforeAll
    static void start() throws Exception {
        hdfs = LocalHdfs.start(tmp.resolve("hdfs"));
        root = LocalHdfs.root(hdfs);
        Path local = ReportFixture.write(tmp.resolve("results"));
        hdfs.getFileSystem().copyFromLocalFile(new org.apache.hadoop.fs.Path(local.toUri()),
                new org.apache.hadoop.fs.Path(root + "/results"));
    }

    @AfterAll
    static void stop() {
        if (hdfs != null) {
            hdfs.shutdown(true);
        }
    }

    @Test
    void readsRunsFromHdfsAndWritesTheReportBeside() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "report", "--results",
                root + "/results");
        assertEquals(0, exit, err.toString());
        FileSystem fs = hdfs.getFileSystem();
        org.apache.hadoop.fs.Path html = new org.apache.hadoop.fs.Path(root + "/results/" + Report.HTML_NAME);
        try (InputStream in = fs.open(html)) {
            String page = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(page.contains("lr linear + warmup 2 (shared)"), "both recipes in the page");
        }
        assertTrue(fs.getFileStatus(new org.apache.hadoop.fs.Path(root + "/results/report-speedup.png")).getLen() > 1000);
        assertEquals(0, fs.globStatus(new org.apache.hadoop.fs.Path(root + "/results/.*tmp*")).length,
                "no temporary file left");
    }

    @Test
    void missingHdfsFolderIsNamed() {
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "report",
                "--results", root + "/nowhere");
        assertEquals(Main.EXIT_DATA, exit, err.toString());
        assertTrue(err.toString().contains(root + "/nowhere"), err.toString());
    }
}
