// The public images every region has: the usual Amazon Linux, Ubuntu, Debian and Windows Server
// AMIs, a few dated releases of each (so `most_recent = true` picks the newest), with the owners,
// names, devices and billing details AWS publishes for them. An image's id is fixed per region
// and name (a hash, as public AMIs differ by region), and so is its root snapshot's.
//
// Two ids that AWS's documentation uses in its examples, ami-12345678 and
// ami-0abcdef1234567890, are kept as an old "example image" in every region, so that examples
// and scripts written against them launch; they are never the most recent image.
import { crypto } from '../../core/lazy.ts';

export interface CatalogueImage {
  /** position in the catalogue (DescribeImages pages by it) */
  seq: number;
  id: string;
  name: string;
  description: string;
  ownerId: string;
  ownerAlias?: 'amazon' | 'aws-marketplace';
  location: string;
  architecture: 'x86_64' | 'arm64';
  platform?: 'windows';
  platformDetails: string;
  usageOperation: string;
  /** ISO 8601 with milliseconds, as DescribeImages reports it */
  creationDate: string;
  rootDeviceName: string;
  snapshotId: string;
  volumeSize: number;
  volumeType: 'gp2' | 'gp3';
  bootMode?: 'legacy-bios' | 'uefi' | 'uefi-preferred';
  imdsSupport?: 'v2.0';
  tags: { Key: string; Value: string }[];
}

const AMAZON = '137112412989';
const WINDOWS = '801119661308';
const CANONICAL = '099720109477';
const DEBIAN = '136693071363';

type Spec = Omit<CatalogueImage, 'seq' | 'id' | 'snapshotId' | 'tags'>;

const linux = { platformDetails: 'Linux/UNIX', usageOperation: 'RunInstances' };

function amazonLinux2023(version: string, date: string, arch: 'x86_64' | 'arm64'): Spec {
  const name = `al2023-ami-${version}-kernel-6.1-${arch}`;
  return {
    name,
    description: `Amazon Linux 2023 AMI ${version} ${arch} HVM kernel-6.1`,
    ownerId: AMAZON,
    ownerAlias: 'amazon',
    location: `amazon/${name}`,
    architecture: arch,
    ...linux,
    creationDate: date,
    rootDeviceName: '/dev/xvda',
    volumeSize: 8,
    volumeType: 'gp3',
    bootMode: arch === 'arm64' ? 'uefi' : 'uefi-preferred',
    imdsSupport: 'v2.0',
  };
}

function amazonLinux2(version: string, date: string, arch: 'x86_64' | 'arm64'): Spec {
  const name = `amzn2-ami-kernel-5.10-hvm-${version}-${arch}-gp2`;
  return {
    name,
    description: `Amazon Linux 2 Kernel 5.10 AMI ${version} ${arch} HVM gp2`,
    ownerId: AMAZON,
    ownerAlias: 'amazon',
    location: `amazon/${name}`,
    architecture: arch,
    ...linux,
    creationDate: date,
    rootDeviceName: '/dev/xvda',
    volumeSize: 8,
    volumeType: 'gp2',
    ...(arch === 'arm64' ? { bootMode: 'uefi' as const } : {}),
  };
}

function ubuntu(release: '22.04' | '24.04', build: string, date: string, arch: 'x86_64' | 'arm64'): Spec {
  const code = release === '22.04' ? 'jammy' : 'noble';
  const debArch = arch === 'x86_64' ? 'amd64' : 'arm64';
  const disk = release === '22.04' ? 'hvm-ssd' : 'hvm-ssd-gp3';
  const name = `ubuntu/images/${disk}/ubuntu-${code}-${release}-${debArch}-server-${build}`;
  return {
    name,
    description: `Canonical, Ubuntu, ${release}${release === '22.04' ? ' LTS' : ''}, ${debArch} ${code} image build on ${date.slice(0, 10)}`,
    ownerId: CANONICAL,
    location: `${CANONICAL}/${name}`,
    architecture: arch,
    ...linux,
    creationDate: date,
    rootDeviceName: '/dev/sda1',
    volumeSize: 8,
    volumeType: release === '22.04' ? 'gp2' : 'gp3',
  };
}

function debian12(build: string, date: string, arch: 'x86_64' | 'arm64'): Spec {
  const name = `debian-12-${arch === 'x86_64' ? 'amd64' : 'arm64'}-${build}`;
  return {
    name,
    description: `Debian 12 (${build})`,
    ownerId: DEBIAN,
    location: `${DEBIAN}/${name}`,
    architecture: arch,
    ...linux,
    creationDate: date,
    rootDeviceName: '/dev/xvda',
    volumeSize: 8,
    volumeType: 'gp2',
  };
}

function windows2022(version: string, date: string): Spec {
  const name = `Windows_Server-2022-English-Full-Base-${version}`;
  return {
    name,
    description: 'Microsoft Windows Server 2022 Full Locale English AMI provided by Amazon',
    ownerId: WINDOWS,
    ownerAlias: 'amazon',
    location: `amazon/${name}`,
    architecture: 'x86_64',
    platform: 'windows',
    platformDetails: 'Windows',
    usageOperation: 'RunInstances:0002',
    creationDate: date,
    rootDeviceName: '/dev/sda1',
    volumeSize: 30,
    volumeType: 'gp2',
    imdsSupport: 'v2.0',
  };
}

const SPECS: Spec[] = [
  ...(['x86_64', 'arm64'] as const).flatMap((a) => [
    amazonLinux2023('2023.6.20241010.0', '2024-10-10T19:27:44.000Z', a),
    amazonLinux2023('2023.6.20241111.0', '2024-11-11T20:12:31.000Z', a),
    amazonLinux2023('2023.6.20241212.0', '2024-12-12T22:41:05.000Z', a),
    amazonLinux2('2.0.20241001.0', '2024-10-01T20:03:13.000Z', a),
    amazonLinux2('2.0.20241113.1', '2024-11-13T21:48:50.000Z', a),
    amazonLinux2('2.0.20241217.0', '2024-12-17T19:55:28.000Z', a),
    ubuntu('22.04', '20241002', '2024-10-02T07:14:32.000Z', a),
    ubuntu('22.04', '20241107', '2024-11-07T06:43:19.000Z', a),
    ubuntu('22.04', '20241206', '2024-12-06T08:21:57.000Z', a),
    ubuntu('24.04', '20241004', '2024-10-04T05:32:10.000Z', a),
    ubuntu('24.04', '20241119', '2024-11-19T04:12:45.000Z', a),
    ubuntu('24.04', '20241210', '2024-12-10T06:58:02.000Z', a),
    debian12('20241004-1890', '2024-10-04T20:41:33.000Z', a),
    debian12('20241110-1927', '2024-11-10T21:06:21.000Z', a),
    debian12('20241201-1948', '2024-12-01T22:19:48.000Z', a),
  ]),
  windows2022('2024.10.09', '2024-10-09T17:46:21.000Z'),
  windows2022('2024.11.13', '2024-11-13T18:11:55.000Z'),
  windows2022('2024.12.13', '2024-12-13T17:33:08.000Z'),
];

/** Ids AWS's own examples use: kept as an old image in every region (see above). */
export const EXAMPLE_IMAGE_IDS = ['ami-12345678', 'ami-0abcdef1234567890'];

function example(id: string): Spec & { id: string } {
  return {
    id,
    name: `palisade-example-image-${id}`,
    description: 'An image id from AWS documentation examples, kept by Palisade so that examples launch (x86_64, 8 GiB gp2 root)',
    ownerId: AMAZON,
    ownerAlias: 'amazon',
    location: `amazon/palisade-example-image-${id}`,
    architecture: 'x86_64',
    ...linux,
    creationDate: '2020-01-01T00:00:00.000Z',
    rootDeviceName: '/dev/xvda',
    volumeSize: 8,
    volumeType: 'gp2',
  };
}

const hashId = (prefix: string, text: string) => `${prefix}-${crypto().createHash('sha256').update(text).digest('hex').slice(0, 17)}`;

const byRegion = new Map<string, CatalogueImage[]>();

/** The region's public images, in a fixed order. */
export function imageCatalogue(region: string): CatalogueImage[] {
  let list = byRegion.get(region);
  if (list) return list;
  const specs: (Spec & { id?: string })[] = [...EXAMPLE_IMAGE_IDS.map(example), ...SPECS];
  list = specs.map((s, i) => ({
    ...s,
    seq: i + 1,
    id: s.id ?? hashId('ami', `${region}/${s.ownerId}/${s.name}`),
    snapshotId: hashId('snap', `${region}/${s.ownerId}/${s.name}/root`),
    tags: [],
  }));
  byRegion.set(region, list);
  return list;
}
