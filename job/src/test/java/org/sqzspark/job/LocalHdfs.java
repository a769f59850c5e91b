package org.sqzspark.job;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/** HDFS for the integration tests: a NameNode and a DataNode in this JVM, on 127.0.0.1 only. */
public final class LocalHdfs {

    private LocalHdfs() {
    }

    /** Starts HDFS with its storage under {@code dir} and waits until it serves. */
    public static MiniDFSCluster start(Path dir) throws IOException {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, dir.toString());
        conf.set("dfs.namenode.rpc-bind-host", StandaloneCluster.HOST);
        conf.set("dfs.namenode.http-address", StandaloneCluster.HOST + ":0");
        conf.set("dfs.datanode.address", StandaloneCluster.HOST + ":0");
        conf.set("dfs.datanode.http.address", StandaloneCluster.HOST + ":0");
        conf.set("dfs.datanode.ipc.address", StandaloneCluster.HOST + ":0");
        MiniDFSCluster hdfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        hdfs.waitActive();
        return hdfs;
    }

    /** The URI of the cluster's root, {@code hdfs://127.0.0.1:<port>}. */
    public static String root(MiniDFSCluster hdfs) {
        return "hdfs://" + StandaloneCluster.HOST + ":" + hdfs.getNameNodePort();
    }
}
